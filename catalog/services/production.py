"""What a production server must not start with: demo logins that still take their published
passwords (a guessable SECRET_KEY and FLASK_DEBUG are refused earlier, in catalog.config).

`startup_problems` is called before the server takes requests (gunicorn's `on_starting` hook in
gunicorn.conf.py); any problem stops it with the message.
"""

from __future__ import annotations

from sqlalchemy import select

from catalog.models import User
from catalog.services.demo_data import DEMO_PASSWORDS, DEMO_PROVIDER_PASSWORD


def active_demo_logins(session) -> list[str]:
    """Emails of active users who still sign in with a password the README and `flask seed`
    print (the demo admin, staff and provider logins)."""
    demo = {email: password for email, (_, _, password) in DEMO_PASSWORDS.items()}
    found = []
    for user in session.scalars(select(User).where(User.active.is_(True))):
        password = demo.get(user.email)
        if password is None and user.email.endswith("@provider.example"):
            password = DEMO_PROVIDER_PASSWORD
        if password is not None and user.check_password(password):
            found.append(user.email)
    return sorted(found)


def startup_problems(session) -> list[str]:
    """Everything that must stop a production server from starting."""
    problems = []
    logins = active_demo_logins(session)
    if logins:
        problems.append(
            "Demo logins with their published passwords are active: "
            + ", ".join(logins)
            + ". Deactivate them in /admin/users or give them new passwords before serving "
            "in production."
        )
    return problems
