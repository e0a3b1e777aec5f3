"""Issue 14 class 5: sign-in per NIST SP 800-63B, on both databases.

Unknown emails cost the same password-hash work as known ones (counted, not timed); the
throttle cannot be aimed at somebody else (ten wrong passwords from ten addresses used to lock the
real user out); common and breached passwords are refused for every role.
"""

from __future__ import annotations

import pytest

from catalog.services import signin
from catalog.services.passwords import password_problem

PASSWORD = "Correct-Horse-42"  # the users fixture's password


@pytest.mark.parametrize(
    "weak", ["Password123", "password12", "qwertyuiop12", "Summer2024", "staff@test.example"]
)
def test_common_and_guessable_passwords_are_refused(weak):
    assert password_problem(weak, "staff@test.example")


def test_a_long_uncommon_password_is_fine():
    assert password_problem("violet-tractor-canyon-27", "staff@test.example") is None


@pytest.mark.parametrize("weak", ["Password123", "password12"])
@pytest.mark.parametrize("role", ["staff", "admin"])
def test_admin_cannot_give_staff_a_common_password(client, users, login, weak, role):
    from sqlalchemy import select

    from catalog.extensions import db
    from catalog.models import User

    login(users["admin"])
    client.post(
        "/admin/users",
        data={"email": f"new-{role}@test.example", "role": role, "password": weak},
    )
    assert db.session.scalar(select(User).where(User.email == f"new-{role}@test.example")) is None


def test_cli_refuses_a_common_password(runner, app):
    result = runner.invoke(
        args=["create-user", "x@post.example", "--role", "admin"], input="Password123\n"
    )
    assert result.exit_code != 0 and "too easy" in result.output


def test_unknown_email_costs_one_password_hash(client, users, monkeypatch):
    calls = []
    real = signin.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(signin, "check_password_hash", counting)
    from catalog.models import people

    monkeypatch.setattr(people, "check_password_hash", counting)
    client.post("/login", data={"email": "nobody@test.example", "password": "x" * 12})
    unknown = len(calls)
    client.post("/login", data={"email": "staff@test.example", "password": "x" * 12})
    known = len(calls) - unknown
    assert unknown == known == 1
    # the stand-in hash uses the same method as the real ones
    assert calls[0].split("$")[0] == calls[1].split("$")[0]


def wrong(client, address: str, email: str = "staff@test.example"):
    return client.post(
        "/login",
        data={"email": email, "password": "wrong-password-1"},
        environ_base={"REMOTE_ADDR": address},
    )


def right(client, address: str):
    return client.post(
        "/login",
        data={"email": "staff@test.example", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_passwords_from_other_addresses_do_not_lock_the_owner_out(app, users):
    attacker = app.test_client()
    for i in range(10):
        assert wrong(attacker, f"203.0.113.{i}").status_code == 401
    owner = app.test_client()
    assert right(owner, "198.51.100.7").status_code == 302


def test_the_pair_limit_stops_one_guesser(app, users):
    attacker = app.test_client()
    for _ in range(app.config["LOGIN_FAILURE_LIMIT"]):
        assert wrong(attacker, "203.0.113.9").status_code == 401
    assert right(attacker, "203.0.113.9").status_code == 429
    assert right(app.test_client(), "198.51.100.7").status_code == 302


@pytest.mark.app_config(LOGIN_ACCOUNT_FAILURE_LIMIT=12)
def test_the_account_limit_spares_a_known_device(app, users):
    owner = app.test_client()
    assert right(owner, "198.51.100.7").status_code == 302  # a browser that signed in before
    owner.post("/logout")
    attacker = app.test_client()
    for i in range(12):
        assert wrong(attacker, f"203.0.113.{i}").status_code == 401
    # a new browser, from a new address, waits: the account limit holds against spread guessing
    stranger = right(app.test_client(), "192.0.2.50")
    assert stranger.status_code == 429 and "an hour" in stranger.get_data(as_text=True)
    # the owner's browser still signs in
    assert right(owner, "198.51.100.7").status_code == 302
