"""vote blocks: the counted votes of each vote-id range packed into one value

A cold worker reads these few large values instead of a million vote rows. The table starts
empty: the first cold read builds the blocks, so nothing is copied here.

Revision ID: 0025
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voteblock",
        sa.Column("block", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("layout", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("id_sum", sa.BigInteger(), nullable=False),
        sa.Column("tags_version", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("style", sa.LargeBinary(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("block"),
    )


def downgrade() -> None:
    op.drop_table("voteblock")
