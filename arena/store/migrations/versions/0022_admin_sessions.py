"""admin sessions and login failures (server-side sessions, the login rate limit)

Revision ID: 0022
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adminsession",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adminsession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adminsession_expires_at"), ["expires_at"])
    op.create_table(
        "adminloginfailure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adminloginfailure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adminloginfailure_client_ip"), ["client_ip"])
        batch_op.create_index(batch_op.f("ix_adminloginfailure_at"), ["at"])


def downgrade() -> None:
    op.drop_table("adminloginfailure")
    op.drop_table("adminsession")
