"""Configuration from the environment (see ../shared/docs/contracts.md).

`DATABASE_URL` (default SQLite in the instance folder), `SECRET_KEY` (generated once and kept in the
instance folder in development; required in production), `MAX_UPLOAD_MB` (default 10),
`CATALOG_JURISDICTION` (the code of the jurisdiction the app serves, e.g. `MO` or `TX`; default: the
first one seeded).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

JURISDICTION_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key(instance_path: Path) -> str:
    """Generate a random key once and keep it in the instance folder (development only)."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


MIN_SECRET_KEY_CHARS = 32


def secret_key_problem(key: str) -> str | None:
    """Why a SECRET_KEY is too weak for production, or None: at least 32 characters, not a
    placeholder and not one character repeated."""
    if len(key) < MIN_SECRET_KEY_CHARS:
        return (
            f"SECRET_KEY is {len(key)} characters long; production needs at least "
            f"{MIN_SECRET_KEY_CHARS} random ones, e.g. $(python -c 'import secrets; "
            "print(secrets.token_hex(32))')."
        )
    lowered = key.lower()
    if len(set(key)) < 8 or any(w in lowered for w in ("change-me", "changeme", "secret-key")):
        return "SECRET_KEY looks like a placeholder; use a random one (secrets.token_hex(32))."
    return None


def public_base(value: str | None) -> str | None:
    """PUBLIC_BASE_URL as stored: `https://catalog.example.org` (scheme and host, optional port),
    or None when unset. Absolute links (JSON, CSV, Atom) are built on it, not on the Host header."""
    text = (value or "").strip().rstrip("/")
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ConfigError(
            f"PUBLIC_BASE_URL must be like https://catalog.example.org (no path), got {value!r}"
        )
    return text


def jurisdiction_code(value: str | None) -> str | None:
    """CATALOG_JURISDICTION as stored: upper-case code, or None when unset or blank."""
    code = (value or "").strip().upper()
    if not code:
        return None
    if not JURISDICTION_CODE_RE.match(code):
        raise ConfigError(
            f"CATALOG_JURISDICTION must be a jurisdiction code such as MO or TX, got {value!r}"
        )
    return code


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _positive_int(name: str, default: str, minimum: int = 1) -> int:
    value = os.environ.get(name) or default
    try:
        number = int(value)
        if number < minimum:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}") from exc
    return number


def engine_options(database_url: str) -> dict:
    """SQLAlchemy engine options. Connections: one per gunicorn thread (GUNICORN_THREADS, 24 by
    default) kept in each worker's pool, DB_POOL_SIZE to choose otherwise, plus DB_MAX_OVERFLOW
    (4) for a moment's extra (an API token's last-use write has its own short connection).
    SQLAlchemy's 5 + 10 made the 16th concurrent request of a worker wait for a connection (30 s
    at most) while its threads sat idle. Most recently used connection first (LIFO): under light
    load the same few serve every request, with their SQLite page cache warm, and the others age
    out (pool_recycle) instead of all being kept alive in turn. No pre-ping on every checkout:
    catalog/db.py pings connections that sat idle (a round trip fewer per request); connections
    older than half an hour are replaced. On PostgreSQL the workers' pools together,
    WEB_CONCURRENCY x (DB_POOL_SIZE + DB_MAX_OVERFLOW), must fit in max_connections (compose.yaml
    sets 200). An in-memory SQLite database has one shared connection (no pool to size)."""
    from sqlalchemy.engine import make_url

    options = {"pool_pre_ping": False, "pool_recycle": 1800}
    url = make_url(database_url)
    if url.drivername.startswith("sqlite") and url.database in (None, "", ":memory:"):
        return options  # Flask-SQLAlchemy gives it a StaticPool, which takes no sizes
    threads = _positive_int("GUNICORN_THREADS", "24")
    options.update(
        pool_size=_positive_int("DB_POOL_SIZE", str(threads)),
        max_overflow=_positive_int("DB_MAX_OVERFLOW", "4", minimum=0),
        pool_use_lifo=True,
    )
    return options


def from_env(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment plus explicit overrides (tests)."""
    overrides = dict(overrides or {})
    env = (
        overrides.pop("ENV", None)
        or os.environ.get("CATALOG_ENV")
        or ("development" if _env_flag("FLASK_DEBUG") else "production")
    )
    testing = bool(overrides.get("TESTING", False))
    database_url = overrides.pop("DATABASE_URL", None) or os.environ.get("DATABASE_URL")
    if not database_url:
        instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance_path / 'catalog.db'}"
    max_upload_mb = overrides.pop("MAX_UPLOAD_MB", None) or os.environ.get("MAX_UPLOAD_MB", "10")
    try:
        max_upload_mb = float(max_upload_mb)
        if max_upload_mb <= 0:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"MAX_UPLOAD_MB must be a positive number, got {max_upload_mb!r}"
        ) from exc

    secret_key = overrides.pop("SECRET_KEY", None) or os.environ.get("SECRET_KEY")
    production = env == "production" and not testing
    if not secret_key:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production the session key must come from the "
                "environment (e.g. SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'))."
            )
        secret_key = _dev_secret_key(instance_path)
    elif production and (problem := secret_key_problem(secret_key)):
        raise ConfigError(problem)
    if production and _env_flag("FLASK_DEBUG"):
        raise ConfigError(
            "FLASK_DEBUG is set with CATALOG_ENV=production: the interactive debugger runs any "
            "code a visitor types, so production refuses it. Unset FLASK_DEBUG."
        )

    served = jurisdiction_code(
        overrides.pop("CATALOG_JURISDICTION")
        if "CATALOG_JURISDICTION" in overrides  # tests: None or "" means "the first seeded"
        else os.environ.get("CATALOG_JURISDICTION")
    )

    behind_proxy = int(os.environ.get("PROXY_FIX_X_FOR", "0") or 0)
    public_base_url = public_base(
        overrides.pop("PUBLIC_BASE_URL", None) or os.environ.get("PUBLIC_BASE_URL")
    )
    trusted = overrides.pop("TRUSTED_HOSTS", None) or os.environ.get("TRUSTED_HOSTS")
    if isinstance(trusted, str):
        trusted = [h.strip().lower() for h in trusted.split(",") if h.strip()]
    if not trusted and public_base_url:
        trusted = [urlsplit(public_base_url).hostname, "localhost", "127.0.0.1"]
    config = {
        "ENV_NAME": env,
        "DEBUG": False if production else _env_flag("FLASK_DEBUG"),
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(normalise_database_url(database_url)),
        "MAX_UPLOAD_MB": max_upload_mb,
        "MAX_CONTENT_LENGTH": int(max_upload_mb * 1024 * 1024),
        "MAX_CATALOG_ROWS": int(os.environ.get("MAX_CATALOG_ROWS", "50000")),
        "MAX_CELL_CHARS": int(os.environ.get("MAX_CELL_CHARS", "5000")),
        # Wall-clock seconds one upload (web or API) may spend reading, checking and suggesting
        # before it is stopped with a clear error (nothing is saved); 0 = no limit. The command
        # line's imports have none.
        "IMPORT_TIME_LIMIT": float(os.environ.get("IMPORT_TIME_LIMIT", "60")),
        # Seconds an import may use an engine older than the latest decisions (a rebuild costs
        # seconds; 0 = always current). 0 under TESTING: each test's decisions are its own.
        "ENGINE_MAX_STALE": float(os.environ.get("ENGINE_MAX_STALE", "0" if testing else "30")),
        # Heavy uploads (catalog files, the planner's records) at once per worker process, and
        # the seconds one waits for a slot before a 503 with Retry-After.
        "UPLOAD_SLOTS": int(os.environ.get("UPLOAD_SLOTS", "1")),
        # ... and in all the workers sharing this instance folder (0 = no such limit).
        "UPLOAD_HOST_SLOTS": int(
            os.environ.get("UPLOAD_HOST_SLOTS", str(max(1, (os.cpu_count() or 2) // 2)))
        ),
        "UPLOAD_WAIT_SECONDS": float(os.environ.get("UPLOAD_WAIT_SECONDS", "2")),
        "CATALOG_JURISDICTION": served,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_flag("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "PROXY_FIX_X_FOR": behind_proxy,
        "PUBLIC_BASE_URL": public_base_url,
        "API_TOKEN_DAYS": float(os.environ.get("API_TOKEN_DAYS", "365")),
        "TRUSTED_HOSTS": trusted or None,
        "LOGIN_FAILURE_LIMIT": int(os.environ.get("LOGIN_FAILURE_LIMIT", "10")),
        "LOGIN_ADDRESS_FAILURE_LIMIT": int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "30")),
        "LOGIN_ACCOUNT_FAILURE_LIMIT": int(os.environ.get("LOGIN_ACCOUNT_FAILURE_LIMIT", "100")),
        # Compliance planner: anonymous plans per address per minute, roster size limits.
        "PLAN_RATE_LIMIT": int(os.environ.get("PLAN_RATE_LIMIT", "30")),
        "PLAN_MAX_OFFICERS": int(os.environ.get("PLAN_MAX_OFFICERS", "5000")),
        "PLAN_MAX_RECORDS": int(os.environ.get("PLAN_MAX_RECORDS", "40")),
        "JSON_SORT_KEYS": False,
        # Collect and freeze each process's long-lived objects after its first public page
        # (catalog.serving.settle_process); off under TESTING, where one process builds many apps.
        "GC_FREEZE": _env_flag("GC_FREEZE", not testing),
        # Reconciliation API: queries a minute per address (per worker; 0 = no limit), body size.
        "RECONCILE_RATE_PER_MINUTE": int(os.environ.get("RECONCILE_RATE_PER_MINUTE", "3000")),
        "RECONCILE_MAX_BODY": 256 * 1024,
        # Seconds the reconciliation index may lag behind the published courses.
        "RECONCILE_INDEX_MAX_AGE": float(os.environ.get("RECONCILE_INDEX_MAX_AGE", "5")),
    }
    config.update(overrides)
    return config
