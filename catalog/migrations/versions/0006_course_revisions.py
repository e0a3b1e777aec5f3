"""courses: a pending revision of an approved course (description, objectives, web address)

`revision` holds the change a provider made to an approved course that staff must look at but
that need not take the course off the public list; `revision_at` is set while it waits for
review (the queue filters on it). Plain ADD COLUMN (no batch copy), so the search triggers on
courses stay in place on SQLite.

Revision ID: 0006
Revises: pg_import_triggers
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "pg_import_triggers"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("courses", sa.Column("revision", sa.JSON(), nullable=True))
    op.add_column("courses", sa.Column("revision_at", sa.DateTime(), nullable=True))
    op.create_index("ix_courses_revision_at", "courses", ["revision_at"], unique=False)


def downgrade():
    op.drop_index("ix_courses_revision_at", table_name="courses")
    op.drop_column("courses", "revision_at")  # SQLite 3.35+ drops columns in place
    op.drop_column("courses", "revision")
