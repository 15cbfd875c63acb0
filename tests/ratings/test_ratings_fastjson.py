"""The typed (msgspec) reading of JSON Lines keeps and rejects exactly what the json module's
line-by-line reading does, with the same messages and line numbers."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ratings.loader
from ratings import load_battles
from ratings.loader import iter_records, record_problem

GOOD: list[dict[str, Any]] = [
    {"model_a": "a", "model_b": "b", "winner": "model_a"},
    {"model_a": "b", "model_b": "c", "winner": "tie", "anony": True, "category": "code"},
    {"model_a": "c", "model_b": "a", "winner": "tie (bothbad)", "category": ["math", "code"]},
    {"model_a": "a", "model_b": "c", "winner": "model_b", "anony": False},
    {
        "model_a": "b",
        "model_b": "a",
        "winner": "model_a",
        "conv_metadata": {
            "sum_assistant_a_tokens": 10,
            "sum_assistant_b_tokens": 4,
            **{f"header_count_{s}": {"h1": 1} for s in "ab"},
            **{f"list_count_{s}": {"ordered": 0, "unordered": 2} for s in "ab"},
            **{f"bold_count_{s}": {"**": 1, "__": 0} for s in "ab"},
        },
        "conversation_a": [{"role": "assistant", "content": "# x\n- y"}],
        "conversation_b": [{"role": "assistant", "content": "plain"}],
    },
]
BAD = [
    '{"model_a": "a", "model_b": "a", "winner": "tie"}',
    '{"model_a": "", "model_b": "a", "winner": "tie"}',
    '{"model_a": "a", "model_b": "b", "winner": "draw"}',
    '{"model_a": "a", "winner": "tie"}',
    '{"model_a": 1, "model_b": "b", "winner": "tie"}',
    "[1, 2]",
    '{"model_a": "a", "model_b": "b", "winner": "tie", "tstamp": NaN}',
    '{"model_a": "a", "model_b": "b"',
]


def _reference(path: Path) -> tuple[list[tuple[int, str]], list[tuple[str, str, str]]]:
    """What the json module, line by line, makes of the file."""
    rejected, kept = [], []
    for no, obj, error in iter_records(path):
        problem = error or record_problem(obj)
        if problem:
            rejected.append((no, problem))
        elif obj.get("anony") is not False:
            kept.append((obj["model_a"], obj["model_b"], obj["winner"]))
    return rejected, kept


@pytest.mark.parametrize("chunk", [3, 7, 20_000])
@pytest.mark.parametrize("with_bad", [False, True])
def test_same_records_as_the_json_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, with_bad: bool
) -> None:
    monkeypatch.setattr(ratings.loader, "_LINES_PER_CHUNK", chunk)
    rng = random.Random(chunk)
    lines = [json.dumps(rng.choice(GOOD)) for _ in range(60)]
    if with_bad:
        for bad in BAD:
            lines.insert(rng.randrange(len(lines)), bad)
    lines.insert(5, "")
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    rejected, kept = _reference(path)
    report = load_battles(path)
    assert sorted(report.rejected) == rejected
    b = report.battles
    labels = ["model_a", "model_b", "tie", "tie (bothbad)"]
    got = [
        (b.names[x], b.names[y], labels[o])
        for x, y, o in zip(b.model_a, b.model_b, b.outcome, strict=True)
    ]
    assert got == kept
    assert b.style is not None
    with_meta = sum(1 for m in kept if m == ("b", "a", "model_a"))
    assert int(np.isfinite(b.style).all(axis=(1, 2)).sum()) == with_meta
    conv = load_battles(path, style_from_conversations=True, category="code")
    assert sorted(conv.rejected) == rejected
    assert len(conv.battles) == sum(1 for m in kept if m[:2] in (("b", "c"), ("c", "a")))
