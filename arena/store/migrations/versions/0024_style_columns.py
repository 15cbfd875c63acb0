"""style features as numeric columns

A vote's style features move from one JSON list (`vote.style`, decoded vote by vote whenever a
leaderboard was computed) into eight float columns; a list that is not 8 numbers becomes NULLs.
The copy is one UPDATE in SQL on either backend, so converting a million votes takes seconds.

Revision ID: 0024
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None

COLUMNS = tuple(
    f"style_{feature}_{side}" for side in "ab" for feature in ("tokens", "headers", "lists", "bold")
)


def _element(dialect: str, k: int) -> str:
    """SQL for element k of the JSON list `style` as a float (NULL when it is not a number)."""
    if dialect == "postgresql":
        return (
            f"CASE WHEN json_typeof(style -> {k}) = 'number' "
            f"THEN (style ->> {k})::double precision END"
        )
    return (
        f"CASE WHEN json_type(style, '$[{k}]') IN ('integer', 'real') "
        f"THEN json_extract(style, '$[{k}]') END"
    )


def _is_list_of_8(dialect: str) -> str:
    # CASE, not AND: neither backend promises to skip the length of a value that is no list.
    if dialect == "postgresql":
        return "CASE WHEN json_typeof(style) = 'array' THEN json_array_length(style) END = 8"
    return (
        "CASE WHEN json_valid(style) THEN CASE WHEN json_type(style) = 'array' "
        "THEN json_array_length(style) END END = 8"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("vote", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
    sets = ", ".join(f"{name} = {_element(dialect, k)}" for k, name in enumerate(COLUMNS))
    op.execute(f"UPDATE vote SET {sets} WHERE {_is_list_of_8(dialect)}")
    # A list with a non-number in it is no style at all: every column NULL, as a new vote has.
    op.execute(
        f"UPDATE vote SET {', '.join(f'{n} = NULL' for n in COLUMNS)} "
        f"WHERE {' OR '.join(f'{n} IS NULL' for n in COLUMNS)}"
    )
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_column("style")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("style", sa.JSON(), nullable=True))
    values = ", ".join(COLUMNS)
    build = f"json_build_array({values})" if dialect == "postgresql" else f"json_array({values})"
    known = " AND ".join(f"{n} IS NOT NULL" for n in COLUMNS)
    op.execute(f"UPDATE vote SET style = CASE WHEN {known} THEN {build} ELSE '[]' END")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.alter_column("style", existing_type=sa.JSON(), nullable=False)
        for name in COLUMNS:
            batch_op.drop_column(name)
