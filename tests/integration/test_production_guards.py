"""Issue 14 classes 3 and 7: what production refuses, on both databases where data is involved.

Demo data only when asked for by name, no start while a demo login takes its published password,
no weak SECRET_KEY, no debugger under FLASK_DEBUG=1, owner-only SQLite files and backups, gunicorn
on loopback unless told otherwise.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from catalog import ConfigError, create_app
from catalog.extensions import db
from catalog.models import User
from catalog.services.production import active_demo_logins, startup_problems

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e"
BIN = Path(sys.executable).parent


def demo_users() -> list[str]:
    return list(db.session.scalars(sa.select(User.email).order_by(User.email)))


def test_seed_in_production_loads_no_demo_logins_unless_asked_by_name(app, app_factory):
    production = app_factory(ENV="production")
    result = production.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "demo data not loaded" in result.output
    assert demo_users() == []
    asked = production.test_cli_runner().invoke(args=["seed", "--demo"])
    assert asked.exit_code == 0, asked.output
    assert "admin@post.example" in demo_users()


def test_seed_outside_production_still_loads_the_demo(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "admin@post.example" in demo_users()


def test_demo_logins_with_their_passwords_are_start_up_problems(app, runner):
    runner.invoke(args=["seed"])
    found = active_demo_logins(db.session)
    assert "admin@post.example" in found and "staff@post.example" in found
    assert any(e.endswith("@provider.example") for e in found)
    assert startup_problems(db.session)
    for user in db.session.scalars(sa.select(User)):
        if user.email == "admin@post.example":
            user.set_password("violet-tractor-canyon-27")
        else:
            user.active = False
    db.session.commit()
    assert active_demo_logins(db.session) == [] and startup_problems(db.session) == []


def test_gunicorn_refuses_to_start_in_production_with_demo_logins(app, runner, database_url):
    runner.invoke(args=["seed"])
    db.session.remove()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": STRONG_KEY,
        "CATALOG_ENV": "production",
        "BIND": "127.0.0.1:0",
        "WEB_CONCURRENCY": "1",
    }
    env.pop("FLASK_DEBUG", None)
    result = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr and "admin@post.example" in result.stderr


@pytest.mark.parametrize("key", ["abc", "x" * 40, "change-me-change-me-change-me-1234567"])
def test_a_weak_secret_key_is_refused_in_production(monkeypatch, tmp_path, key):
    monkeypatch.setenv("CATALOG_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_flask_debug_never_turns_the_debugger_on_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("CATALOG_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="FLASK_DEBUG"):
        create_app()
    # `flask run` does not start either
    env = {**os.environ, "CATALOG_ENV": "production", "FLASK_DEBUG": "1", "SECRET_KEY": STRONG_KEY}
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "catalog", "run", "--port", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "FLASK_DEBUG" in result.stderr


def test_sqlite_file_and_instance_folder_are_owner_only(monkeypatch, tmp_path):
    old = os.umask(0o022)
    try:
        monkeypatch.setenv("CATALOG_ENV", "development")
        monkeypatch.delenv("DATABASE_URL", raising=False)
        monkeypatch.setenv("CATALOG_INSTANCE_PATH", str(tmp_path / "instance"))
        app = create_app()
        with app.app_context():
            db.session.execute(sa.text("CREATE TABLE t (x)"))
            db.session.commit()
            db.engine.dispose()
    finally:
        os.umask(old)
    instance = tmp_path / "instance"
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    for name in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
        path = instance / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_backups_are_owner_only(app, runner, tmp_path, backend):
    if backend == "postgresql":
        import shutil

        if not shutil.which("pg_dump"):
            pytest.skip("pg_dump not installed")
    old = os.umask(0o022)
    try:
        target = tmp_path / "backups" / "catalog.bak"
        result = runner.invoke(args=["backup", str(target)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


def test_gunicorn_binds_loopback_unless_told(monkeypatch):
    import runpy

    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "127.0.0.1:8000"
    monkeypatch.setenv("BIND", "0.0.0.0:8000")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "0.0.0.0:8000"
    assert "BIND=0.0.0.0:8000" in (ROOT / "Dockerfile").read_text()
    assert "BIND: 0.0.0.0:8000" in (ROOT / "compose.yaml").read_text()
