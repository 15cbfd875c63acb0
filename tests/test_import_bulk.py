"""Bulk import across several chunks: all or nothing with --strict, line numbers past the first
chunk, duplicates skipped within the file and against the database, progress reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from arena.admin.battlefiles import import_battles
from arena.store.tables import Battle, Vote
from ratings.chunks import CHUNK

N = CHUNK + 50  # two chunks


def write(path: Path, bad_last: bool) -> Path:
    lines = [
        json.dumps(
            {
                "question_id": f"q{k}",
                "model_a": "alpha" if k % 2 else "gamma",
                "model_b": "beta",
                "winner": ("model_a", "model_b", "tie")[k % 3],
                "tstamp": 1.7e9 + k,
                "conv_metadata": {
                    "sum_assistant_a_tokens": k % 50,
                    "sum_assistant_b_tokens": 7,
                    **{f"header_count_{s}": {"h1": 1} for s in "ab"},
                    **{f"list_count_{s}": {"ordered": 1, "unordered": 0} for s in "ab"},
                    **{f"bold_count_{s}": {"**": 0, "__": 0} for s in "ab"},
                },
            }
        )
        for k in range(N - 1)
    ]
    lines.insert(10, lines[3])  # a duplicate inside the file
    last: dict[str, Any] = {"model_a": "alpha", "model_b": "beta", "winner": "draw"}
    lines.append(json.dumps(last if bad_last else {**last, "winner": "tie"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _counts(engine: Any) -> tuple[int, int]:
    with engine.connect() as conn:
        battles = conn.execute(select(func.count()).select_from(Battle)).scalar_one()
        votes = conn.execute(select(func.count(col(Vote.id)))).scalar_one()
    return int(battles), int(votes)


def test_strict_imports_nothing_when_the_last_record_is_bad(engine: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "b.jsonl", bad_last=True)
    report = import_battles(engine, path, strict=True)
    assert report.rejected == [(N + 1, "unknown winner 'draw'")]
    assert report.imported == 0 and report.new_models == []
    assert _counts(engine) == (0, 0)


def test_bulk_import_across_chunks(engine: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "b.jsonl", bad_last=True)
    seen: list[int] = []
    report = import_battles(engine, path, progress=seen.append)
    assert report.rejected == [(N + 1, "unknown winner 'draw'")]
    assert report.total == N + 1 and report.duplicates == 1 and report.imported == N - 1
    assert report.new_models == ["gamma"]
    assert _counts(engine) == (N - 1, N - 1)
    assert len(seen) == 2 and seen[0] < seen[1] == path.stat().st_size
    with engine.connect() as conn:
        row = conn.execute(
            select(col(Vote.style_tokens_a), col(Vote.style_lists_b), col(Vote.winner))
            .join(Battle, col(Battle.id) == col(Vote.battle_id))
            .where(col(Battle.external_id) == "q7")
        ).one()
    assert tuple(row) == (7.0, 1.0, "model_b")
    again = import_battles(engine, path)
    assert again.imported == 0 and again.duplicates == N
    assert _counts(engine) == (N - 1, N - 1)
