"""A failing leaderboard refresh logs one line each time, and its traceback only once."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from arena.store.engine import make_engine
from arena.votes import failure_log
from arena.votes.board_options import RankingConfig
from arena.votes.board_refresh import refresher


def test_repeated_failures_do_not_flood_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    failure_log._logged_kinds.clear()  # this process may have logged one before this test
    # A database the refresher cannot open: every round fails the same way.
    engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'arena.db'}")

    async def run() -> None:
        task = asyncio.create_task(refresher(engine, RankingConfig(), every=0.01))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.INFO, logger="arena.votes.board"):
        asyncio.run(run())
    engine.dispose()
    records = [r for r in caplog.records if r.name == "arena.votes.board"]
    assert len(records) >= 3
    assert sum(r.exc_info is not None for r in records) == 1
    assert all("\n" not in r.getMessage() for r in records)
    assert all("OperationalError" in r.getMessage() for r in records[1:])
