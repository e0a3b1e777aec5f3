"""Online-safe backup and restore.

SQLite: the sqlite3 backup API (consistent while the app keeps serving; never a file copy).
PostgreSQL: `pg_dump --format=custom` / `pg_restore --clean`, so a backup is an ordinary pg_dump
archive that any PostgreSQL tooling can read.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from catalog.db import private_file
from catalog.services.errors import ServiceError


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise ServiceError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(
            f"{name} is not installed; install the PostgreSQL client tools (e.g. apt-get install postgresql-client)."
        )
    return path


def backup(engine, target: Path) -> Path:
    """Write a consistent copy of the database behind `engine` to `target`."""
    url = make_url(str(engine.url))
    target = Path(target)
    if not target.parent.exists():
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        try:
            if target.exists():
                target.unlink()
            private_file(target)  # a backup holds password hashes: owner-only (0600)
            dest = sqlite3.connect(target)
            try:
                source.backup(dest)
                ok = dest.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                dest.close()
        finally:
            source.close()
        if ok != "ok":
            raise ServiceError(f"The backup failed its integrity check: {ok}")
        return target
    if url.get_backend_name() == "postgresql":
        private_file(target)
        result = subprocess.run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={target}",
                _libpq_url(url),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ServiceError("pg_dump failed.", [result.stderr.strip()])
        return target
    raise ServiceError(f"Backups are not supported for {url.get_backend_name()}.")


def restore(engine, source: Path) -> None:
    """Replace the database behind `engine` with the contents of the backup at `source`."""
    source = Path(source)
    if not source.is_file():
        raise ServiceError(f"No backup file at {source}.")
    url = make_url(str(engine.url))
    engine.dispose()  # nothing of ours may hold the database while it is replaced
    if url.get_backend_name() == "sqlite":
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            header_ok = backup_db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError as exc:
            raise ServiceError(f"{source} is not a SQLite backup: {exc}") from exc
        if not header_ok:
            backup_db.close()
            raise ServiceError(f"{source} failed its integrity check; nothing was restored.")
        dest = sqlite3.connect(_sqlite_path(url), timeout=15)
        try:
            backup_db.backup(dest)
        finally:
            dest.close()
            backup_db.close()
        return
    if url.get_backend_name() == "postgresql":
        listing = subprocess.run(
            [_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True
        )
        if listing.returncode != 0:
            raise ServiceError(f"{source} is not a pg_dump archive.", [listing.stderr.strip()])
        result = subprocess.run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                str(source),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ServiceError(
                "pg_restore failed; the database was left as it was.", [result.stderr.strip()]
            )
        return
    raise ServiceError(f"Restore is not supported for {url.get_backend_name()}.")
