"""Factory, configuration, health check, error pages and security headers."""

from __future__ import annotations

import pytest

from catalog import ConfigError, create_app


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("CATALOG_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_development_generates_and_keeps_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("CATALOG_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CATALOG_INSTANCE_PATH", str(tmp_path / "instance"))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "instance" / "secret_key").exists()


def test_configuration_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e")
    monkeypatch.setenv("MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    app = create_app()
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.debug is False


def test_bad_max_upload_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e")
    monkeypatch.setenv("MAX_UPLOAD_MB", "lots")
    with pytest.raises(ConfigError, match="MAX_UPLOAD_MB"):
        create_app()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_start_page_renders_with_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_404_is_html_for_pages_and_json_for_api(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "text/html" in page.content_type
    assert "Page not found" in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    body = api.get_json()
    assert set(body) == {"error", "details"}


def test_405_page_names_allowed_methods(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_500_never_shows_a_stack_trace(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internal detail")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret internal detail" not in text
    assert "went wrong" in text


def test_413_names_the_limit(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"email": "x" * 4000})
    assert response.status_code == 413
    assert "10 MB" in response.get_data(as_text=True)
