"""PostgreSQL: the search index's GIN indexes without a pending list (fastupdate off)

With fastupdate on (the default), new entries of a GIN index wait in a pending list, merged into
the index by VACUUM or autovacuum's ANALYZE, or once the list passes gin_pending_list_limit
(4 MB). Every search scans the whole pending list meanwhile: right after a bulk approval of
10,000 courses, with autovacuum off or not yet awake, a public search's text match took 87-93 ms
for 'advanced' instead of 15-20 ms with the list merged. `search_courses` is written only when a
decision publishes or changes a course and read by every search, so its entries go straight into
the index; the list already there is merged now.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = ("search_courses_doc", "search_courses_title_trgm")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        op.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"ALTER INDEX {name} RESET (fastupdate)")
