"""Migration 0025 on a database made by the schema before it: the vote blocks table arrives
empty, the first cold board builds blocks, and a downgrade takes the table away again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from arena.store.engine import make_engine, migrate, run_alembic
from arena.votes import blocks
from ratings import Battles
from tests.board_seed import seed_votes
from tests.test_vote_blocks import NAMES, board, from_rows


def test_vote_blocks_arrive_on_an_older_database(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blocks, "BLOCK", 4)
    monkeypatch.setattr(blocks, "SEAL_MARGIN", 2)
    engine = make_engine(database_url)
    try:
        run_alembic(engine, "upgrade", "0022")
        assert "voteblock" not in sa.inspect(engine).get_table_names()
        # The vote table is the same at 0022: votes stored before the upgrade.
        seed_votes(engine, Battles.from_arrays(NAMES, [0, 1, 2] * 6, [1, 2, 3] * 6, [0, 1, 2] * 6))
        migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM voteblock")).scalar_one() == 0
        first = board(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM voteblock")).scalar_one() == 4
        assert board(engine) == first == from_rows(engine, monkeypatch)
        run_alembic(engine, "downgrade", "0022")
        assert "voteblock" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
