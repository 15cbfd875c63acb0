"""Battle-file loader: JSON Lines and JSON arrays, filters, and every bad line reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ratings import compute_leaderboard, load_battles

META = {
    "sum_assistant_a_tokens": 120,
    "sum_assistant_b_tokens": 40,
    "header_count_a": {"h1": 1, "h2": 2, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
    "header_count_b": {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
    "list_count_a": {"ordered": 3, "unordered": 1},
    "list_count_b": {"ordered": 0, "unordered": 2},
    "bold_count_a": {"**": 4, "__": 1},
    "bold_count_b": {"**": 0, "__": 0},
}

GOOD = [
    {
        "model_a": "gpt",
        "model_b": "llama",
        "winner": "model_a",
        "anony": True,
        "question_id": "q1",
        "tstamp": 1700000000.0,
        "judge": "abc",
        "turn": 1,
        "language": "English",
        "category": "coding",
        "unknown_key": [1, 2],
        "conversation_a": [{"role": "user", "content": "hi"}],
        "conv_metadata": META,
    },
    {"model_a": "llama", "model_b": "claude", "winner": "tie (bothbad)"},
    {"model_a": "claude", "model_b": "gpt", "winner": "tie", "category": ["coding", "math"]},
    {"model_a": "gpt", "model_b": "claude", "winner": "model_b", "anony": False},
    {"model_a": "llama", "model_b": "gpt", "winner": "model_b", "category": "math"},
]


def _write_jsonl(path: Path, extra_lines: list[str] | None = None) -> Path:
    lines = [json.dumps(r) for r in GOOD] + (extra_lines or [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_with_lmsys_fields(tmp_path):
    rep = load_battles(_write_jsonl(tmp_path / "b.jsonl"))
    b = rep.battles
    assert rep.rejected == [] and rep.skipped_non_anony == 1 and rep.total_lines == 5
    assert len(b) == 4
    assert b.names == ["gpt", "llama", "claude"]
    assert b.model_a.tolist() == [0, 1, 2, 1] and b.model_b.tolist() == [1, 2, 0, 0]
    assert b.outcome.tolist() == [0, 3, 2, 1]
    assert b.style is not None
    assert b.style[0].tolist() == [[120, 3, 4, 5], [40, 0, 2, 0]]
    assert np.isnan(b.style[1:]).all()


def test_json_array_gives_the_same_battles(tmp_path):
    jl = load_battles(_write_jsonl(tmp_path / "b.jsonl"))
    arr_path = tmp_path / "b.json"
    arr_path.write_text(json.dumps(GOOD, indent=2), encoding="utf-8")
    arr = load_battles(arr_path)
    assert arr.rejected == [] and arr.total_lines == 5 and arr.skipped_non_anony == 1
    assert arr.battles.names == jl.battles.names
    for field in ("model_a", "model_b", "outcome"):
        assert getattr(arr.battles, field).tolist() == getattr(jl.battles, field).tolist()


def test_large_json_array_streams_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("ratings.jsonstream._CHUNK", 64)
    recs = [dict(GOOD[0], question_id="x" * (k % 97)) for k in range(300)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(recs), encoding="utf-8")
    rep = load_battles(path)
    assert len(rep.battles) == 300 and rep.rejected == []


def test_non_anony_included_on_request(tmp_path):
    rep = load_battles(_write_jsonl(tmp_path / "b.jsonl"), anony_only=False)
    assert len(rep.battles) == 5 and rep.skipped_non_anony == 0


def test_category_filter(tmp_path):
    rep = load_battles(_write_jsonl(tmp_path / "b.jsonl"), category="coding")
    assert len(rep.battles) == 2  # a string match and a list membership
    assert rep.skipped_category == 2 and rep.skipped_non_anony == 1


def test_bad_lines_are_reported_with_line_numbers(tmp_path):
    bad = [
        json.dumps({"model_a": "a", "model_b": "b", "winner": "model_c"}),
        json.dumps({"model_a": "a", "model_b": "a", "winner": "tie"}),
        json.dumps({"model_b": "a", "winner": "tie"}),
        '{"model_a": "a", "model_b": "b", "winner": ',
        "",
        json.dumps([1, 2]),
        json.dumps({"model_a": "a", "model_b": 3, "winner": "tie"}),
    ]
    path = tmp_path / "b.jsonl"
    lines = [json.dumps(r) for r in GOOD] + bad
    # The last line is cut off in the middle, without a newline.
    path.write_text("\n".join(lines) + '\n{"model_a": "gpt", "mod', encoding="utf-8")
    rep = load_battles(path)
    assert len(rep.battles) == 4
    got = dict(rep.rejected)
    assert sorted(got) == [6, 7, 8, 9, 11, 12, 13]
    assert "unknown winner 'model_c'" in got[6]
    assert "model_a equals model_b" in got[7]
    assert "missing field 'model_a'" in got[8]
    assert got[9].startswith("malformed JSON")
    assert "not a JSON object" in got[11]
    assert "'model_b' is not a string" in got[12]
    assert got[13].startswith("truncated last line")
    assert rep.total_lines == 13


def test_truncated_json_array(tmp_path):
    path = tmp_path / "b.json"
    text = json.dumps(GOOD)
    path.write_text(text[: len(text) - 30], encoding="utf-8")
    rep = load_battles(path)
    assert len(rep.battles) == 3  # the fourth record (non-anony) was complete
    assert rep.rejected == [(5, rep.rejected[0][1])]
    assert rep.rejected[0][1].startswith("truncated record")


def test_malformed_json_array_reports_and_stops(tmp_path):
    path = tmp_path / "b.json"
    path.write_text('[{"model_a": "a", "model_b": "b", "winner": "tie"}, {oops}, {}]')
    rep = load_battles(path)
    assert len(rep.battles) == 1
    assert rep.rejected[0][0] == 2 and "malformed JSON" in rep.rejected[0][1]


@pytest.mark.parametrize("text", ["", "[]", "\n\n", "[\n]"])
def test_empty_files(tmp_path, text):
    path = tmp_path / "e.json"
    path.write_text(text)
    rep = load_battles(path)
    assert len(rep.battles) == 0 and rep.rejected == []
    assert compute_leaderboard(rep.battles).models == []


def test_loaded_style_feeds_style_control(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(400):
        a, b = rng.choice(["x", "y", "z"], 2, replace=False)
        meta = dict(META, sum_assistant_a_tokens=int(rng.integers(10, 500)))
        rows.append(
            {
                "model_a": a,
                "model_b": b,
                "conv_metadata": meta,
                "winner": str(rng.choice(["model_a", "model_b", "tie"])),
            }
        )
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    lb = compute_leaderboard(load_battles(path).battles, style_control=True)
    assert lb.style_coefficients is not None and len(lb.models) == 3
