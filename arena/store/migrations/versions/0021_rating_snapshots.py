"""rating snapshots: one leaderboard a day per board key, for the history charts

Revision ID: 0021
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratingsnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ratings", sa.Text(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "key"),
    )
    op.create_index(op.f("ix_ratingsnapshot_day"), "ratingsnapshot", ["day"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ratingsnapshot_day"), table_name="ratingsnapshot")
    op.drop_table("ratingsnapshot")
