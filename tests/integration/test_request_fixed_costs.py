"""Issue 16 item 2: what every public request pays outside the search is done once where it can be
(links built once per request root, security headers in one pass, the empty session saved without
work, the first requests' loading done before a worker serves), without changing any answer."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from flask import session, url_for

from catalog.config import ConfigError, engine_options
from catalog.extensions import db
from catalog.security import CONTENT_SECURITY_POLICY
from catalog.serving import warm_public

ROOT = Path(__file__).resolve().parents[2]


def test_links_are_built_for_the_host_and_root_each_request_comes_on(app):
    """A kept URL is only ever given to a request on the same root: another Host, scheme or
    script root gets its own, and a value's type is part of the key (page=1 is not page=True)."""
    roots = [
        ("http://localhost", "http://localhost/courses?page=1"),
        ("http://127.0.0.1", "http://127.0.0.1/courses?page=1"),
        ("https://localhost", "https://localhost/courses?page=1"),
        ("http://localhost/mounted", "http://localhost/mounted/courses?page=1"),
    ]
    for _ in range(2):  # built, then kept
        for base, expected in roots:
            with app.test_request_context("/", base_url=base):
                assert url_for("public.courses", page=1, _external=True) == expected
                assert url_for("public.courses", page=True) != url_for("public.courses", page=1)
                # a list of values (not kept) is built each time, as Flask builds it
                assert url_for("public.courses", area=["a", "b"]).endswith("?area=a&area=b")
                assert url_for("public.courses", _anchor="facet x") == (
                    url_for("public.courses") + "#facet%20x"
                )
    with app.test_request_context("/", base_url="http://localhost"):
        with pytest.raises(Exception, match="nowhere"):
            url_for("nowhere")  # an unknown endpoint still fails, and is not kept


def test_kept_links_are_bounded_whatever_hosts_visitors_send(app):
    app.URL_CACHE_SIZE = 8
    for k in range(50):
        with app.test_request_context("/", base_url=f"http://host{k}.example"):
            assert url_for("public.courses", _external=True) == f"http://host{k}.example/courses"
    assert len(app._url_cache) <= 8


def test_the_pages_links_follow_the_host_they_were_asked_on(client, make_course):
    make_course("Firearms Qualification")
    for host in ("localhost", "127.0.0.1", "localhost", "127.0.0.1"):
        page = client.get("/courses", headers={"Host": host}).get_data(as_text=True)
        assert 'href="/courses.json' in page  # relative links stay relative
        data = client.get("/courses.json", headers={"Host": host}).get_json()
        assert data["courses"][0]["url"].startswith(f"http://{host}/courses/")


def test_security_headers_on_pages_errors_and_a_view_with_its_own_policy(client, make_course):
    make_course("Firearms Qualification")
    for path, status in (("/courses", 200), ("/courses.json", 200), ("/nowhere", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert response.headers.getlist("Content-Security-Policy") == [CONTENT_SECURITY_POLICY]
        assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
        assert response.headers.getlist("Referrer-Policy") == ["strict-origin-when-cross-origin"]
        assert response.headers.getlist("X-Frame-Options") == ["DENY"]
        assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/courses", base_url="https://localhost")
    assert secure.headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]


def test_a_view_that_sets_its_own_headers_keeps_them(app_factory):
    other = app_factory()

    @other.get("/framed")
    def framed():
        return "x", {
            "Content-Security-Policy": "frame-ancestors *",
            "Referrer-Policy": "no-referrer",
        }

    response = other.test_client().get("/framed")
    assert response.headers.getlist("Content-Security-Policy") == ["frame-ancestors *"]
    assert response.headers.getlist("Referrer-Policy") == ["no-referrer"]
    assert "X-Frame-Options" not in response.headers  # it allows framing: no DENY beside it
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_anonymous_visit_sets_no_cookie_and_an_emptied_session_is_still_deleted(
    app_factory, make_course
):
    make_course("Firearms Qualification")
    other = app_factory()

    @other.get("/remember")
    def remember():
        session["x"] = 1
        return "set"

    @other.get("/forget")
    def forget():
        session.clear()
        return "cleared"

    client = other.test_client()
    response = client.get("/courses")
    assert "Set-Cookie" not in response.headers
    assert "Cookie" in response.headers.get("Vary", "")  # the page reads the (empty) session
    assert client.get("/remember").headers["Set-Cookie"].startswith("session=")
    assert client.get_cookie("session") is not None
    response = client.get("/forget")
    assert response.headers["Set-Cookie"].startswith("session=;")  # deleted, not left behind
    assert "Cookie" in response.headers["Vary"]
    assert client.get_cookie("session") is None
    assert "Set-Cookie" not in client.get("/courses").headers


def test_csrf_still_refuses_an_unsafe_request_without_a_token(app_factory, users):
    other = app_factory(WTF_CSRF_ENABLED=True)
    client = other.test_client()
    assert client.get("/login").status_code == 200
    response = client.post("/login", data={"email": users["staff"].email, "password": "x"})
    assert response.status_code == 400


def test_warm_up_asks_for_the_public_pages_and_never_raises(app, make_course):
    make_course("Firearms Qualification")
    answers = warm_public(app)
    assert [path for path, _ in answers][:2] == ["/courses.json", "/courses"]
    assert all(status == 200 for _, status in answers), answers


def test_warm_up_without_a_database_reports_failures_instead_of_raising(app_factory, tmp_path):
    other = app_factory(DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'none.db'}")
    answers = warm_public(other)
    assert answers and all(status != 200 for _, status in answers)
    with other.app_context():
        db.engine.dispose()


def test_warm_up_uses_the_configured_host(app_factory, make_course):
    make_course("Firearms Qualification")
    other = app_factory(TRUSTED_HOSTS=["catalog.example.org"])
    assert all(status == 200 for _, status in warm_public(other))


def test_the_pool_holds_a_connection_per_gunicorn_thread(monkeypatch):
    monkeypatch.delenv("DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("DB_MAX_OVERFLOW", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    threads = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"]
    for url in ("sqlite:////tmp/catalog.db", "postgresql+psycopg://u@h/db"):
        options = engine_options(url)
        assert options["pool_size"] == threads and options["pool_use_lifo"] is True
        assert options["pool_pre_ping"] is False and options["max_overflow"] == 4
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    assert engine_options("sqlite:////tmp/catalog.db")["pool_size"] == 8
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    assert engine_options("postgresql+psycopg://u@h/db")["pool_size"] == 3
    assert engine_options("postgresql+psycopg://u@h/db")["max_overflow"] == 0
    # an in-memory database has Flask-SQLAlchemy's one shared connection: nothing to size
    for url in ("sqlite://", "sqlite:///:memory:"):
        assert "pool_size" not in engine_options(url)
    for bad in ("0", "-1", "many"):
        monkeypatch.setenv("DB_POOL_SIZE", bad)
        with pytest.raises(ConfigError, match="DB_POOL_SIZE"):
            engine_options("sqlite:////tmp/catalog.db")


def test_the_apps_engine_has_that_pool(app):
    with app.app_context():
        pool = db.engine.pool
        assert pool.size() == 24 and pool._max_overflow == 4


def test_each_process_settles_once_after_its_first_public_page(
    app_factory, make_course, monkeypatch
):
    import catalog.serving

    make_course("Firearms Qualification")
    calls = []
    monkeypatch.setattr(catalog.serving, "settle_process", lambda: calls.append(1))
    other = app_factory(GC_FREEZE=True)
    client = other.test_client()
    client.get("/login").close()  # not a public page
    assert calls == []
    for _ in range(3):
        response = client.get("/courses.json")
        assert response.status_code == 200
        response.close()
    assert calls == [1]  # after the first public answer only


def test_settling_is_off_under_testing_and_with_gc_freeze_0(app_factory, make_course, monkeypatch):
    import catalog.serving

    make_course("Firearms Qualification")
    calls = []
    monkeypatch.setattr(catalog.serving, "settle_process", lambda: calls.append(1))
    for other in (app_factory(), app_factory(GC_FREEZE=False)):
        other.test_client().get("/courses.json").close()
    assert calls == []


def test_settle_process_collects_and_freezes():
    import gc

    from catalog.serving import settle_process

    before = gc.get_freeze_count()
    try:
        settle_process()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the test process builds many apps: let the collector see them again
