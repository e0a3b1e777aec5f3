"""api_tokens: an expiry for every token

Tokens made from now on expire (API_TOKEN_DAYS, default 365); existing ones get a year from this
upgrade rather than living forever.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(), nullable=True))
    op.execute(
        sa.text("UPDATE api_tokens SET expires_at = :until").bindparams(until=_a_year_from_now())
    )


def _a_year_from_now():
    import datetime as dt

    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).replace(tzinfo=None)


def downgrade():
    op.drop_column("api_tokens", "expires_at")  # SQLite 3.35+ drops columns in place
