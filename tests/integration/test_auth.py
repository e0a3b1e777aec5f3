"""Sign-in, sign-out, safe redirects, roles and CSRF."""

from __future__ import annotations

import re

import pytest

from catalog.auth.sessions import is_safe_next

PASSWORD = "Correct-Horse-42"  # the users fixture's password


def test_login_success_goes_to_role_home(client, users):
    response = client.post("/login", data={"email": "STAFF@test.example", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/review/")


def test_login_failure_is_a_clear_message(client, users):
    response = client.post("/login", data={"email": "staff@test.example", "password": "wrong"})
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    unknown = client.post("/login", data={"email": "nobody@test.example", "password": "x"})
    assert unknown.status_code == 401


def test_login_redirects_to_local_next_only(client, users):
    ok = client.post(
        "/login", data={"email": "staff@test.example", "password": PASSWORD, "next": "/review/?x=1"}
    )
    assert ok.headers["Location"] == "/review/?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
        "review",
    ],
)
def test_login_refuses_foreign_next(client, users, target):
    response = client.post(
        "/login", data={"email": "staff@test.example", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/review/"


def test_is_safe_next_table():
    assert is_safe_next("/courses?topic=de-escalation")
    for bad in ("//x", "/\\x", "http://x", "javascript:x", None, "/a\r\nb"):
        assert not is_safe_next(bad)


def test_anonymous_is_sent_to_login_and_wrong_role_gets_403(client, users, login):
    response = client.get("/review/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(users["provider_a"])
    assert client.get("/review/").status_code == 403
    assert client.get("/admin/").status_code == 403


def test_staff_cannot_reach_admin_but_admin_reaches_review(client, users, login):
    login(users["staff"])
    assert client.get("/admin/").status_code == 403
    client.post("/logout")
    login(users["admin"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/review/").status_code == 200


def test_logout_invalidates_a_copied_session_cookie(app, client, users, login):
    login(users["staff"])
    cookie = client.get_cookie("session").value
    assert client.get("/review/").status_code == 200
    assert client.post("/logout").status_code == 302
    other = app.test_client()
    other.set_cookie("session", cookie)
    response = other.get("/review/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_failed_logins_are_throttled_per_account(client, users):
    for _ in range(10):
        client.post("/login", data={"email": "staff@test.example", "password": "nope"})
    response = client.post("/login", data={"email": "staff@test.example", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_csrf_is_enforced_when_enabled(app_factory, users):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        no_token = client.post("/login", data={"email": "staff@test.example", "password": PASSWORD})
        assert no_token.status_code == 400
        assert "form expired" in no_token.get_data(as_text=True)
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        ok = client.post(
            "/login",
            data={"email": "staff@test.example", "password": PASSWORD, "csrf_token": token},
        )
        assert ok.status_code == 302
        # Sign-out without the token is refused, so a foreign page cannot log the user out.
        assert client.post("/logout").status_code == 400


def test_forged_forwarded_for_does_not_reset_the_address_limit(app, client, users):
    for i in range(app.config["LOGIN_ADDRESS_FAILURE_LIMIT"]):
        client.post(
            "/login",
            data={"email": f"nobody{i}@test.example", "password": "nope"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
    response = client.post(
        "/login",
        data={"email": "staff@test.example", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert response.status_code == 429


def test_session_cookie_flags(client, users):
    response = client.post("/login", data={"email": "staff@test.example", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = client.post(
        "/login",
        data={"email": "staff@test.example", "password": PASSWORD},
        base_url="https://localhost",
    )
    assert "Secure" in secure.headers["Set-Cookie"]


def test_concurrent_failed_logins_cannot_overshoot_the_limit(app, users):
    """Sixteen wrong passwords for one account from one address at the same instant (as from
    several workers): exactly ten are counted and answered 401, the rest 429."""
    import threading

    from sqlalchemy import func, select

    from catalog.extensions import db
    from catalog.models import LoginFailure

    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def attempt(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/login",
            data={"email": "staff@test.example", "password": f"wrong-{i}"},
            environ_base={"REMOTE_ADDR": "192.0.2.1"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(statuses) == [401] * 10 + [429] * 6
    counted = db.session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == "pair:192.0.2.1|staff@test.example")
    )
    assert counted == 10
