"""publish version: also every other column a page of the public search shows

Each worker keeps the rows of the search's pages it has shown in a memo of its snapshot of the
published catalog (catalog/services/publishing/sql.py `page_rows`), dropped when the publish
version moves, so a page needs no query of its own. 0007_search_version changes the version with
what the snapshot's arrays hold (publication, sort keys, categories, providers, jurisdictions);
a page also shows a course's description, link, control number and provider code, and each
area's hours. Those change the version now too, for an approved course (or a course leaving or
entering approval) and a decided category row, on both databases; on PostgreSQL with the same
deferred, once-per-transaction trigger function as 0007, and TRUNCATE of course_categories too.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# (trigger suffix, table, watched columns, WHEN condition)
WATCHED = (
    (
        "course_page",
        "courses",
        "description, url, control_number, provider_code",
        "old.status = 'approved' OR new.status = 'approved'",
    ),
    (
        "category_hours",
        "course_categories",
        "hours",
        "old.source = 'decided' OR new.source = 'decided'",
    ),
)
SQLITE_BUMP = "UPDATE search_version SET n = n + 1, token = lower(hex(randomblob(8))) WHERE id = 1;"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for suffix, table, columns, when in WATCHED:
            condition = when.replace("old.", "OLD.").replace("new.", "NEW.")
            op.execute(
                f"CREATE CONSTRAINT TRIGGER search_version_{suffix} AFTER UPDATE OF {columns} "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({condition}) "
                "EXECUTE FUNCTION search_version_bump()"
            )
        op.execute(
            "CREATE TRIGGER search_version_course_categories_truncate AFTER TRUNCATE ON "
            "course_categories FOR EACH STATEMENT EXECUTE FUNCTION search_version_bump()"
        )
    else:
        for suffix, table, columns, when in WATCHED:
            op.execute(
                f"CREATE TRIGGER search_version_{suffix}_update AFTER UPDATE OF {columns} ON "
                f"{table} FOR EACH ROW WHEN {when} BEGIN {SQLITE_BUMP} END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS search_version_course_categories_truncate ON course_categories"
        )
        for suffix, table, _, _ in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS search_version_{suffix} ON {table}")
    else:
        for suffix, _, _, _ in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS search_version_{suffix}_update")
