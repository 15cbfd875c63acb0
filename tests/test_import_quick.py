"""The import's quick checks vouch only for records the full checks accept (with the same style
features), and every other record gets the full checks' message at its own line number."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from arena.admin.battlefiles import import_battles
from arena.admin.quick_checks import SLOW, quick
from arena.admin.records import record_store_problem
from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Answer, Battle, Turn, Vote
from ratings.loader import record_problem
from ratings.style import raw_from_metadata


def _meta(**changes: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "sum_assistant_a_tokens": 120,
        "sum_assistant_b_tokens": 80.5,
        "header_count_a": {"h1": 1, "h2": 2},
        "header_count_b": {"h1": 0},
        "list_count_a": {"ordered": 1, "unordered": 3},
        "list_count_b": {"ordered": 0, "unordered": 0},
        "bold_count_a": {"**": 2, "__": 0},
        "bold_count_b": 4,
        "turns": 1,
    }
    meta.update(changes)
    return meta


GOOD: dict[str, Any] = {
    "model_a": "alpha",
    "model_b": "beta",
    "winner": "model_a",
    "tstamp": 1.7e9,
    "anony": True,
    "conv_metadata": _meta(),
}
CONVERSATION = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "**yo**"}]
# Each differs from GOOD in one field: some still pass the full checks, some do not.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"tstamp": 0},
    {"tstamp": 32_503_680_000},
    {"tstamp": 32_503_680_001},
    {"tstamp": -1},
    {"tstamp": True},
    {"tstamp": "1700000000"},
    {"tstamp": 10**400},
    {"tstamp": None},
    {"anony": None},
    {"anony": False},
    {"anony": "yes"},
    {"anony": 1},
    {"winner": "draw"},
    {"winner": 3},
    {"winner": ["model_a"]},
    {"model_b": "alpha"},
    {"model_b": ""},
    {"model_b": 7},
    {"model_b": " beta"},
    {"model_b": "be\u202eta"},
    {"model_b": "<b>beta</b>"},
    {"conversation_a": CONVERSATION, "conversation_b": CONVERSATION},
    {"conversation_a": CONVERSATION},
    {"conversation_a": "hi"},
    {"conversation_b": [{"role": "user", "content": 5}]},
    {"conversation_b": ["hi"]},
    {"conv_metadata": None},
    {"conv_metadata": []},
    {"conv_metadata": {}},
    {"conv_metadata": _meta(turns=True)},
    {"conv_metadata": _meta(turns=1e16)},
    {"conv_metadata": _meta(turns=-1e16)},
    {"conv_metadata": _meta(turns=10**400)},
    {"conv_metadata": _meta(turns="many")},
    {"conv_metadata": _meta(header_count_a={"h1": False})},
    {"conv_metadata": _meta(header_count_a={"h1": 2e15})},
    {"conv_metadata": _meta(header_count_a={"h1": {"deep": 1e300}})},
    {"conv_metadata": _meta(header_count_a={"h1": "3"})},
    {"conv_metadata": _meta(header_count_a={"h1": "x"})},
    {"conv_metadata": _meta(header_count_a="3")},
    {"conv_metadata": _meta(header_count_a=[1])},
    {"conv_metadata": _meta(header_count_a={})},
    {"conv_metadata": _meta(sum_assistant_a_tokens={"n": 1})},
    {"conv_metadata": _meta(sum_assistant_a_tokens="12")},
    {"conv_metadata": _meta(sum_assistant_a_tokens="inf")},
    {"conv_metadata": _meta(sum_assistant_a_tokens=None)},
    {"conv_metadata": _meta(bold_count_b=1e15)},
    {"conv_metadata": {k: v for k, v in _meta().items() if k != "list_count_b"}},
    TAGGED := {"judge": {"who": "me"}, "category": ["Code", "math"], "language": "English"},
    EXCLUDED := {"excluded": True, "exclude_reason": "spam", "counted": True, "leaked": 1},
    {"modality": "vision"},
    {"images": [["0" * 64]]},
]
RECORDS = [{**GOOD, **v} for v in VARIANTS]


def _full(obj: Any, names: dict[str, str | None]) -> str | None:
    return record_problem(obj) or record_store_problem(obj, names)


def test_quick_vouches_only_for_what_the_full_checks_accept() -> None:
    names: dict[str, str | None] = {}
    vouched = 0
    for obj in [*RECORDS, 5, None, [GOOD], {"model_a": "alpha"}]:
        first = quick(obj, names)
        full = _full(obj, names)  # fills the names' cache, as the import does
        for style in (first, quick(obj, names)):
            if style is SLOW:
                continue
            vouched += 1
            assert full is None, obj
            meta = obj.get("conv_metadata")
            raw = raw_from_metadata(meta) if isinstance(meta, dict) else None
            assert style == (None if raw is None else (*raw[0], *raw[1])), obj
    assert quick(GOOD, names) == (120.0, 3.0, 4.0, 2.0, 80.5, 0.0, 0.0, 4.0)
    assert vouched >= 20


def test_rejections_and_stored_rows_are_the_full_checks(engine: Any, tmp_path: Path) -> None:
    lines = [json.dumps({**obj, "question_id": f"q{k}"}) for k, obj in enumerate(RECORDS)]
    lines.insert(5, "{not json")
    lines.insert(9, "")
    lines.append('{"model_a": "alpha", "model_b": "beta", "winner": "tie", "judge": "\\ud800"}')
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    names: dict[str, str | None] = {}
    expected = []
    for no, line in enumerate(lines, 1):
        if line.strip():
            try:
                problem = _full(json.loads(line), names)
            except ValueError as e:
                problem = f"malformed JSON: {e}"
            if problem:
                expected.append((no, problem))
    report = import_battles(engine, path)
    assert report.rejected == expected
    assert report.imported == report.total - len(expected) > 20
    with engine.connect() as conn:
        stored = {
            r.external_id: r
            for r in conn.execute(
                select(Battle.external_id, Battle.created_at, Vote).join(
                    Vote, col(Vote.battle_id) == col(Battle.id)
                )
            )
        }
        turns = conn.execute(select(Turn.prompt, Turn.index)).all()
        answers = sorted(conn.execute(select(Answer.side, Answer.content)).all())
    for k, obj in enumerate(RECORDS):
        row = stored.get(f"q{k}")
        if row is None:
            continue
        meta = obj.get("conv_metadata")
        raw = raw_from_metadata(meta) if isinstance(meta, dict) else None
        style = [getattr(row, c) for c in STYLE_COLUMNS]
        if raw is not None:
            assert style == [*raw[0], *raw[1]], obj
        elif "conversation_b" not in obj:
            assert style == [None] * 8, obj
        if isinstance(obj.get("tstamp"), int | float) and obj["tstamp"] is not True:
            when = datetime.fromtimestamp(float(obj["tstamp"]), UTC).replace(tzinfo=None)
            assert row.created_at == when, obj
        assert row.anony is (obj.get("anony") is not False)
    assert stored["q0"].categories == [] and stored["q0"].counted is True
    picked = stored[f"q{VARIANTS.index(TAGGED)}"]
    assert picked.voter_id == "{'who': 'me'}" and picked.categories == ["code", "math", "english"]
    excluded = stored[f"q{VARIANTS.index(EXCLUDED)}"]
    assert (excluded.excluded, excluded.exclude_reason, excluded.counted, excluded.leaked) == (
        True,
        "spam",
        True,
        True,
    )
    assert stored[f"q{VARIANTS.index({'modality': 'vision'})}"].modality == "vision"
    assert stored[f"q{VARIANTS.index({'images': [['0' * 64]]})}"].modality == "vision"
    two = stored[
        f"q{VARIANTS.index({'conversation_a': CONVERSATION, 'conversation_b': CONVERSATION})}"
    ]
    assert two.prompt_hash is not None and "english" in two.categories
    assert [s for s in STYLE_COLUMNS if getattr(two, s) is None] == []
    assert ("hi", 0) in turns and ("a", "**yo**") in answers and ("b", "**yo**") in answers


def test_a_duplicate_in_a_later_batch_is_skipped(engine: Any, tmp_path: Path) -> None:
    from ratings.chunks import CHUNK

    lines = [json.dumps({**GOOD, "question_id": f"q{k}"}) for k in range(CHUNK + 1)]
    lines.append(lines[0])  # the first record again, one batch later
    lines.append(json.dumps({**GOOD, "tstamp": 5}))  # no question_id: keyed by content
    lines.append(json.dumps({**GOOD, "tstamp": 5}))
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_battles(engine, path)
    assert (report.imported, report.duplicates, report.rejected) == (CHUNK + 2, 2, [])
    again = import_battles(engine, path)
    assert (again.imported, again.duplicates) == (0, CHUNK + 4)


def test_a_failed_write_leaves_nothing(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are written by a thread while the next is read: a write that fails there still
    fails the import, and undoes the batches written before it."""
    import arena.admin.battlefiles as battlefiles
    from ratings.chunks import CHUNK

    real = battlefiles.insert_tuples
    calls: list[str] = []

    def failing(conn: Any, table: Any, names: Any, values: Any) -> None:
        calls.append(table.name)
        if calls.count("vote") == 5:  # the first of the second batch (5,000 rows a call)
            raise RuntimeError("disk full")
        real(conn, table, names, values)

    monkeypatch.setattr(battlefiles, "insert_tuples", failing)
    lines = [json.dumps({**GOOD, "question_id": f"q{k}"}) for k in range(2 * CHUNK + 5)]
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RuntimeError, match="disk full"):
        import_battles(engine, path)
    with engine.connect() as conn:
        assert conn.execute(select(Battle.id)).first() is None
    monkeypatch.setattr(battlefiles, "insert_tuples", real)
    assert import_battles(engine, path).imported == 2 * CHUNK + 5
