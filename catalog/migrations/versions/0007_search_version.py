"""publish version: one row that changes with every change the public search can see

`search_version` (id 1, n, token) is what every public request reads to know whether its worker's
in-memory copy of the published catalog (catalog/services/publishing/snapshot.py) is current. Triggers
change it in the same transaction as:

- any row of `search_published` (publication, expiry date, provider, hours, delivery, categories);
- the title or approval time of an approved course (the sort keys the copy holds);
- any category, provider or jurisdiction (names, slugs and links shown on the public pages).

`n` counts changes and `token` is random, so a restored backup or a recreated database never
looks like the state a worker holds. On PostgreSQL the change is a deferred constraint trigger
run once per transaction at commit: the row is locked only for the instant before the commit
(an import holding its transaction open never blocks a decision on it, and no lock-order
deadlock can involve it). TRUNCATE (the tests) changes it too.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (trigger suffix, table, events, SQLite WHEN condition / PostgreSQL WHEN condition)
WATCHED = (
    ("published", "search_published", ("INSERT", "UPDATE", "DELETE"), None),
    (
        "course",
        "courses",
        ("UPDATE OF title, approved_at",),
        "old.status = 'approved' OR new.status = 'approved'",
    ),
    ("category", "categories", ("INSERT", "UPDATE", "DELETE"), None),
    ("provider", "providers", ("INSERT", "UPDATE", "DELETE"), None),
    ("jurisdiction", "jurisdictions", ("INSERT", "UPDATE", "DELETE"), None),
)
SQLITE_BUMP = "UPDATE search_version SET n = n + 1, token = lower(hex(randomblob(8))) WHERE id = 1;"

PG_BUMP = """
CREATE OR REPLACE FUNCTION search_version_bump() RETURNS trigger AS $$
BEGIN
  IF current_setting('catalog.search_version_bumped', true) IS DISTINCT FROM txid_current()::text
  THEN
    UPDATE search_version SET n = n + 1, token = md5(random()::text || clock_timestamp()::text)
    WHERE id = 1;
    PERFORM set_config('catalog.search_version_bumped', txid_current()::text, true);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


def _sqlite_triggers():
    for suffix, table, events, when in WATCHED:
        for event in events:
            name = f"search_version_{suffix}_{event.split()[0].lower()}"
            condition = f" WHEN {when}" if when else ""
            yield name, f"AFTER {event} ON {table} FOR EACH ROW{condition} BEGIN {SQLITE_BUMP} END"


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(
        "CREATE TABLE search_version (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, "
        "token VARCHAR(40) NOT NULL)"
    )
    if postgresql:
        op.execute(
            "INSERT INTO search_version (id, n, token) "
            "VALUES (1, 0, md5(random()::text || clock_timestamp()::text))"
        )
        op.execute(PG_BUMP)
        for suffix, table, events, when in WATCHED:
            condition = (
                f" WHEN ({when.replace('old.', 'OLD.').replace('new.', 'NEW.')})" if when else ""
            )
            op.execute(
                f"CREATE CONSTRAINT TRIGGER search_version_{suffix} AFTER {' OR '.join(events)} "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{condition} "
                "EXECUTE FUNCTION search_version_bump()"
            )
            op.execute(
                f"CREATE TRIGGER search_version_{suffix}_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION search_version_bump()"
            )
    else:
        op.execute(
            "INSERT INTO search_version (id, n, token) VALUES (1, 0, lower(hex(randomblob(8))))"
        )
        for name, body in _sqlite_triggers():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for suffix, table, _, _ in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS search_version_{suffix} ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS search_version_{suffix}_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS search_version_bump()")
    else:
        for name, _ in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_version")
