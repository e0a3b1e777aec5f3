"""catalog import: raw cells, error count and notes per row; header row per catalog

Revision ID: 0002_import
Revises: 0001
Create Date: 2026-11-22 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002_import"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalogs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("catalog_rows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("error_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("raw", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("notes", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index(
            "ix_catalog_rows_catalog_id_error_count", ["catalog_id", "error_count"], unique=False
        )


def downgrade():
    with op.batch_alter_table("catalog_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_rows_catalog_id_error_count")
        batch_op.drop_column("notes")
        batch_op.drop_column("raw")
        batch_op.drop_column("error_count")
    with op.batch_alter_table("catalogs", schema=None) as batch_op:
        batch_op.drop_column("headers")
