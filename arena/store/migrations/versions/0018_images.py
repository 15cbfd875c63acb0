"""images in prompts: endpoint.vision, vote.modality, the image and turn_image tables

Revision ID: 0018
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Boolean defaults as the literal "0" (not sa.false()): SQLite then adds the column in place;
    # an expression default makes Alembic rebuild the table, which foreign keys refuse.
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vision", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("modality", sa.String(length=8), nullable=False, server_default="text")
        )
        batch_op.create_index(batch_op.f("ix_vote_modality"), ["modality"], unique=False)
    op.create_table(
        "image",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mime", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "turnimage",
        sa.Column("turn_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("upload_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["turn_id"], ["turn.id"]),
        sa.PrimaryKeyConstraint("turn_id", "position"),
    )
    with op.batch_alter_table("turnimage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_turnimage_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_turnimage_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("turnimage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_turnimage_created_at"))
        batch_op.drop_index(batch_op.f("ix_turnimage_sha256"))
    op.drop_table("turnimage")
    op.drop_table("image")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_modality"))
        batch_op.drop_column("modality")
    with op.batch_alter_table("endpoint", schema=None) as batch_op:
        batch_op.drop_column("vision")
