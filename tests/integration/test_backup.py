"""`flask backup PATH` / `flask restore PATH` round-trip every row, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from catalog.extensions import db
from catalog.models import Provider, User


def _all_rows() -> dict[str, list]:
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            result = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(r) for r in result]
    return rows


def test_backup_and_restore_round_trip_every_row(empty_database_url, app_factory, tmp_path):
    app = app_factory(DATABASE_URL=empty_database_url)
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
        from catalog.services.seeding import SEED_DIR, SeedReport, seed_requirements, seed_taxonomy

        seed_taxonomy(db.session, SEED_DIR / "mo" / "taxonomy.toml", SeedReport())
        seed_requirements(db.session, SEED_DIR / "mo" / "requirements.toml", SeedReport())
        provider = Provider(slug="acme", name="Acme ‘Academy’ — Ünïcode")
        user = User(email="s@post.example", role="staff")
        user.set_password("Correct-Horse-42")
        db.session.add_all([provider, user])
        db.session.commit()
        before = _all_rows()
        assert before["keywords"] and before["providers"]

        target = tmp_path / "backup.bin"
        result = runner.invoke(args=["backup", str(target)])
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0

        # Lose data after the backup: delete a provider, add another.
        db.session.delete(db.session.get(Provider, provider.id))
        db.session.add(Provider(slug="later", name="Added after backup"))
        db.session.commit()
        db.session.remove()
        assert _all_rows() != before

        result = runner.invoke(args=["restore", str(target), "--yes"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        assert _all_rows() == before
        db.engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path):
    bogus = tmp_path / "not-a-backup.bin"
    bogus.write_bytes(b"this is not a database")
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code != 0
    assert "not a" in result.output or "failed" in result.output
    missing = runner.invoke(args=["restore", str(tmp_path / "nope.bin"), "--yes"])
    assert missing.exit_code != 0 and "No backup file" in missing.output
    assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
