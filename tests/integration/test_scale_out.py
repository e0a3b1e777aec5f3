"""Scale out: two app servers (separate gunicorn instances) on one PostgreSQL serve the same site.

A browser's session cookie and CSRF token from one are good on the other; the sign-in throttle
counts failures made on both; a decision committed through one is in the other's next search (each
instance keeps its own in-memory copy of the published list, refreshed by the publish version).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from catalog.extensions import db
from catalog.services.accounts import issue_token

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
SECRET = "scale-out-7d1f0c3b9a2e4d6f8b5c1a3e7f9d2b4c6a8e0f1d3b5c7a9e"


@pytest.fixture
def servers(database_url, tmp_path, listening_socket, spawn):
    """Two gunicorn instances (one worker each) on the test's PostgreSQL database."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "CATALOG_ENV": "production",
        "PYTHONPATH": str(ROOT),
    }
    bases = []
    for _ in range(2):
        sock = listening_socket()
        spawn(
            [str(GUNICORN), "-w", "1", "-b", f"fd://{sock.fileno()}", "catalog:create_app()"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(sock.fileno(),),
        )
        bases.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
        sock.close()  # the server has its copy
    for base in bases:  # `spawn` stops both servers after the test, or if one never answers
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
    yield bases


class Browser:
    """A cookie-keeping client (cookies are per host, not per port: both servers get them)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, url: str, data: dict | None = None, headers: dict | None = None):
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def csrf(self, url: str) -> str:
        status, page = self.request(url)
        assert status == 200, page[:300]
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def api(url: str, token: str, payload: dict):
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def search(base: str, **params) -> dict:
    url = f"{base}/courses.json?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_app_servers_serve_one_site(
    servers, make_user, make_provider, make_pending_course, password
):
    a, b = servers
    staff = make_user("reviewer@post.example", "staff")
    _, token = issue_token(db.session, staff, "scale-out")
    provider = make_provider("mid-mo")
    course = make_pending_course(provider, "Verbal De-escalation for Patrol", hours="1")
    version = course.version
    db.session.commit()

    # Session and CSRF: the form comes from A, the sign-in posts to B, the pages answer on both.
    browser = Browser()
    status, _ = browser.request(
        f"{b}/login",
        {"email": staff.email, "password": password, "csrf_token": browser.csrf(f"{a}/login")},
    )
    assert status == 302
    for base in (a, b):
        status, page = browser.request(f"{base}/review")
        assert status == 200 and "reviewer@post.example" in page
    status, _ = browser.request(f"{a}/logout", {})  # no CSRF token: refused on either
    assert status == 400
    status, page = browser.request(f"{b}/review")
    assert status == 200

    # Freshness: both instances have loaded their copy; a decision through A is in B's next search.
    assert search(a, q="de-escalation")["total"] == 0 == search(b, q="de-escalation")["total"]
    status, body = api(
        f"{a}/api/v1/courses/{course.id}/decision",
        token,
        {
            "action": "override",
            "version": version,
            "areas": [{"slug": "skill-development", "hours": 1}],
            "topics": ["de-escalation"],
        },
    )
    assert status == 200, body
    for base in (b, a):
        found = search(base, q="de-escalation", topic="de-escalation")
        assert [c["id"] for c in found["courses"]] == [course.id], base

    # Sign-in throttle: failures on A and on B count together (10 per address and account).
    stranger = Browser()
    statuses = []
    for i in range(11):
        base = (a, b)[i % 2]
        statuses.append(
            stranger.request(
                f"{base}/login",
                {
                    "email": staff.email,
                    "password": "wrong-password",
                    "csrf_token": stranger.csrf(f"{base}/login"),
                },
            )[0]
        )
    assert statuses[:10] == [401] * 10 and statuses[10] == 429, statuses
    status, _ = stranger.request(
        f"{a}/login",
        {"email": staff.email, "password": password, "csrf_token": stranger.csrf(f"{a}/login")},
    )
    assert status == 429
