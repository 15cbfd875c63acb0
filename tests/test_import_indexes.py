"""A large SQLite import drops the battle tables' secondary indexes and builds them again before
it commits: after a successful, a failed and a rejected (--strict) import every index is there
exactly as the migrations made it. PostgreSQL keeps its indexes throughout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import arena.admin.battlefiles as battlefiles
import arena.admin.import_indexes as import_indexes
from arena.admin.battlefiles import import_battles
from arena.store.tables import Battle
from ratings.chunks import CHUNK

RECORD: dict[str, Any] = {
    "model_a": "alpha",
    "model_b": "beta",
    "winner": "model_a",
    "tstamp": 1.7e9,
    "conv_metadata": {"sum_assistant_a_tokens": 3, "sum_assistant_b_tokens": 4},
    "conversation_a": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "a"}],
    "conversation_b": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "b"}],
}


def _indexes(engine: Any) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index'"
        else:
            sql = (
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            )
        return sorted(tuple(r) for r in conn.exec_driver_sql(sql))


def _write(path: Path, n: int, *, bad: int | None = None) -> Path:
    lines = [json.dumps({**RECORD, "question_id": f"q{k}"}) for k in range(n)]
    if bad is not None:
        lines[bad] = json.dumps({**RECORD, "winner": "draw"})
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Any import counts as large; what each import dropped."""
    monkeypatch.setattr(import_indexes, "MIN_RECORDS", 1)
    seen: list[list[str]] = []
    real = import_indexes.drop_secondary

    def spy(conn: Any) -> list[str]:
        seen.append(real(conn))
        return seen[-1]

    monkeypatch.setattr(battlefiles, "drop_secondary", spy)
    return seen


def test_a_large_import_leaves_the_indexes_as_they_were(
    engine: Any, tmp_path: Path, dropped: list[list[str]]
) -> None:
    before = _indexes(engine)
    report = import_battles(engine, _write(tmp_path / "b.jsonl", CHUNK + 10))
    assert report.imported == CHUNK + 10
    assert _indexes(engine) == before
    if engine.dialect.name == "sqlite":
        # It did drop them (the six of battle and of vote, and those of turn and answer).
        assert len(dropped) == 1 and len(dropped[0]) == 14
        assert all(s.startswith("CREATE INDEX") for s in dropped[0])
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM vote WHERE voter_id = 'x'"
            ).all()
        assert "ix_vote_voter_id" in str(plan)
    else:
        assert dropped == []
    # The votes are now many more than a file of the same size: its import keeps the indexes.
    again = import_battles(engine, _write(tmp_path / "c.jsonl", 100))
    assert again.duplicates == 100 and len(dropped) <= 1
    assert _indexes(engine) == before


def test_a_failed_import_undoes_the_drop(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dropped: list[list[str]]
) -> None:
    before = _indexes(engine)
    real = battlefiles.insert_tuples

    def failing(conn: Any, table: Any, names: Any, values: Any) -> None:
        if table.name == "vote":
            raise RuntimeError("disk full")
        real(conn, table, names, values)

    monkeypatch.setattr(battlefiles, "insert_tuples", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        import_battles(engine, _write(tmp_path / "b.jsonl", CHUNK + 10))
    assert len(dropped) == (1 if engine.dialect.name == "sqlite" else 0)
    assert _indexes(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(Battle.id)).first() is None


def test_a_rejected_strict_import_undoes_the_drop(
    engine: Any, tmp_path: Path, dropped: list[list[str]]
) -> None:
    before = _indexes(engine)
    # The bad record is in the second chunk: the first one's rows are written by then.
    report = import_battles(
        engine, _write(tmp_path / "b.jsonl", CHUNK + 10, bad=CHUNK + 5), strict=True
    )
    assert report.imported == 0 and report.rejected == [(CHUNK + 6, "unknown winner 'draw'")]
    assert len(dropped) == (1 if engine.dialect.name == "sqlite" else 0)
    assert _indexes(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(Battle.id)).first() is None


def test_small_imports_keep_their_indexes(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(conn: Any) -> list[str]:
        raise AssertionError("a small import dropped the indexes")

    monkeypatch.setattr(battlefiles, "drop_secondary", never)
    assert import_battles(engine, _write(tmp_path / "b.jsonl", 20)).imported == 20


def test_the_estimate_is_from_the_first_chunk() -> None:
    assert import_indexes.estimated_records(1_000_000, 10_000, 50) == 5_000
    assert import_indexes.estimated_records(0, 0, 0) == 0
