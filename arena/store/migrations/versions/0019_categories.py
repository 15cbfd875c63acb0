"""categories as bit flags on the vote, and the LLM tagger's work table

Revision ID: 0019
Revises: 0001
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0001"
branch_labels = None
depends_on = None

# The registry as of this revision (arena/votes/category_bits.py); frozen here, because a
# migration must fill the column the same way whatever the code says later.
_BITS = {
    "code": 0,
    "math": 1,
    "hard-prompts": 2,
    "creative-writing": 3,
    "instruction-following": 4,
    "long": 16,
    "multi-turn": 17,
    "english": 24,
    "chinese": 25,
    "japanese": 26,
    "korean": 27,
    "russian": 28,
    "other-language": 62,
}
_BATCH = 5000


def _bits(value: Any) -> int:
    if isinstance(value, str):  # SQLite hands JSON back as text through a plain select
        value = json.loads(value or "[]")
    mask = 0
    for name in value or ():
        if name in _BITS:
            mask |= 1 << _BITS[name]
    return mask


def upgrade() -> None:
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category_bits", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "prompttag",
        sa.Column("prompt_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tagger", sa.String(length=100), nullable=True),
        sa.Column("bits", sa.BigInteger(), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("prompt_hash"),
    )
    with op.batch_alter_table("prompttag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompttag_status"), ["status"], unique=False)

    conn = op.get_bind()
    # The counter bumped when older votes are re-tagged (vote caches re-read the bits then).
    counter = sa.table("counter", sa.column("name", sa.String()), sa.column("value", sa.Integer()))
    conn.execute(counter.insert().values(name="tags", value=0))

    # Fill the bits of existing votes from their JSON tags, a batch of ids at a time.
    vote = sa.table(
        "vote",
        sa.column("id", sa.Integer()),
        sa.column("categories", sa.Text()),
        sa.column("category_bits", sa.BigInteger()),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(vote.c.id, vote.c.categories)
            .where(vote.c.id > last)
            .order_by(vote.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        updates = [{"vid": r[0], "bits": b} for r in rows if (b := _bits(r[1]))]
        if updates:
            conn.execute(
                vote.update()
                .where(vote.c.id == sa.bindparam("vid"))
                .values(category_bits=sa.bindparam("bits")),
                updates,
            )
        last = rows[-1][0]


def downgrade() -> None:
    op.execute("DELETE FROM counter WHERE name = 'tags'")
    with op.batch_alter_table("prompttag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompttag_status"))
    op.drop_table("prompttag")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_column("category_bits")
