"""Password rules (NIST SP 800-63B 3.1.1.2): length, and no common, breached or guessable ones.

No composition rules. A new password is checked against zxcvbn's frequency lists (30,000 of the
most common passwords from breach corpora, plus common words and names) and its guess estimate,
with the account's own email and name as context words.
"""

from __future__ import annotations

import re

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable" against an online attack (>= 10^8 guesses)
_CHECKED_CHARS = 72  # zxcvbn's own limit; the rest only adds strength


def password_problem(
    password: str, email: str = "", *, context: tuple[str, ...] = ()
) -> str | None:
    """Why `password` must not be used (completing "The password ..."), or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if email and password.strip().lower() == email.strip().lower():
        return "must not be the email address"
    from zxcvbn import zxcvbn

    words = [email, *re.split(r"[@.+_-]", email or ""), *context]
    result = zxcvbn(password[:_CHECKED_CHARS], user_inputs=[w for w in words if len(w) > 2])
    if result["score"] < MIN_SCORE:
        hint = (result.get("feedback") or {}).get("warning") or ""
        reason = "is too easy to guess: it is, or is close to, a common or breached password"
        return f"{reason} ({hint.rstrip('.')})" if hint else reason
    return None
