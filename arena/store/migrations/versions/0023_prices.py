"""prices, token estimates, daily spend and budgets

Revision ID: 0023
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Boolean defaults as the literal "0" (not sa.false()): SQLite then adds the column in place;
    # an expression default makes Alembic rebuild the table, which foreign keys refuse.
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("input_price", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("output_price", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("daily_budget", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("over_budget_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tokens_estimated", sa.Boolean(), nullable=False, server_default="0")
        )
    op.create_table(
        "spend",
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoint.id"]),
        sa.PrimaryKeyConstraint("endpoint_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("spend")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("tokens_estimated")
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.drop_column("over_budget_until")
        batch_op.drop_column("daily_budget")
        batch_op.drop_column("output_price")
        batch_op.drop_column("input_price")
