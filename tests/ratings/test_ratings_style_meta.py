"""Style features read a column at a time from typed `conv_metadata` (ratings.fastjson) are
exactly what `raw_from_metadata` makes of each record, whatever shape the metadata has."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ratings.loader
from ratings import load_battles
from ratings.fastjson import StyleMeta, decode_chunk, style_rows
from ratings.loader import iter_records, record_problem
from ratings.style import raw_from_metadata


def _meta(**change: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "sum_assistant_a_tokens": 10,
        "header_count_a": {f"h{i}": i for i in range(1, 7)},
        "list_count_a": {"ordered": 3, "unordered": 2},
        "bold_count_a": {"**": 1, "__": 4},
        "sum_assistant_b_tokens": 7,
        "header_count_b": {"h2": 5},
        "list_count_b": {"unordered": 1},
        "bold_count_b": {},
    }
    meta.update(change)
    return {k: v for k, v in meta.items() if v is not ...}


#: Shapes the typed reading takes, and shapes it leaves to `raw_from_metadata`.
METAS: list[Any] = [
    _meta(),
    _meta(header_count_a=3, list_count_b=0, bold_count_a=-2),
    _meta(extra="ignored", sum_assistant_b_tokens=2**40),
    _meta(sum_assistant_a_tokens=2**40 + 1),  # too large for the typed reading
    _meta(sum_assistant_a_tokens=12.5),
    _meta(header_count_a={"h1": 1.5, "h2": 0.25}),
    _meta(header_count_b={"h7": 1}),  # an unknown key is still summed
    _meta(list_count_a={"ordered": "2"}),
    _meta(bold_count_b=True),
    _meta(sum_assistant_a_tokens=...),  # missing: no style
    _meta(header_count_a=None),
    _meta(header_count_a=[1, 2]),
    _meta(sum_assistant_b_tokens=10**400),
    _meta(sum_assistant_b_tokens=1e308, sum_assistant_a_tokens=1e308),
    "not a table",
    None,
    [1, 2],
]


def _expected(path: Path) -> np.ndarray:
    rows = []
    for _, obj, error in iter_records(path):
        if error or record_problem(obj) or obj.get("anony") is False:
            continue
        meta = obj.get("conv_metadata")
        raw = raw_from_metadata(meta) if isinstance(meta, dict) else None
        rows.append(np.full((2, 4), np.nan) if raw is None else np.array([raw[0], raw[1]]))
    return np.array(rows)


@pytest.mark.parametrize("chunk", [1, 5, 20_000])
def test_style_equals_raw_from_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(ratings.loader, "_LINES_PER_CHUNK", chunk)
    rng = random.Random(chunk)
    lines = []
    for k in range(200):
        record: dict[str, Any] = {"model_a": f"m{k % 3}", "model_b": "x", "winner": "tie"}
        meta = METAS[0] if k % 2 else rng.choice(METAS)
        if meta is not None or k % 4:
            record["conv_metadata"] = meta
        lines.append(json.dumps(record))
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    style = load_battles(path).battles.style
    assert style is not None
    np.testing.assert_array_equal(style, _expected(path))


def test_typed_reading_takes_the_contract_shape() -> None:
    lines = [
        json.dumps({"model_a": "a", "model_b": "b", "winner": "tie", "conv_metadata": m})
        for m in METAS[:3]
    ]
    records = decode_chunk(lines)
    assert records is not None
    metas = [r.conv_metadata for r in records]
    assert all(m.__class__ is StyleMeta for m in metas)
    for row, meta in zip(style_rows(metas), METAS[:3], strict=True):
        raw = raw_from_metadata(meta)
        assert raw is not None
        assert row.tolist() == [raw[0], raw[1]]


@pytest.mark.parametrize("odd", METAS[3:9])
def test_other_shapes_are_left_to_raw_from_metadata(odd: Any) -> None:
    line = json.dumps({"model_a": "a", "model_b": "b", "winner": "tie", "conv_metadata": odd})
    records = decode_chunk([line])
    assert records is not None
    assert records[0].conv_metadata == odd


def test_style_rows_of_nothing() -> None:
    assert style_rows([]).shape == (0, 2, 4)


def test_repeated_keys_keep_the_last_value_as_json_does() -> None:
    meta = (
        '{"sum_assistant_a_tokens":1,"sum_assistant_a_tokens":5,"header_count_a":{"h1":1,'
        '"h1":7},"list_count_a":3,"bold_count_a":{},"sum_assistant_b_tokens":1,'
        '"header_count_b":0,"list_count_b":0,"bold_count_b":{"**":1,"**":4}}'
    )
    line = '{"model_a":"a","model_b":"b","winner":"tie","conv_metadata":' + meta + "}"
    records = decode_chunk([line])
    assert records is not None and records[0].conv_metadata.__class__ is StyleMeta
    raw = raw_from_metadata(json.loads(meta))
    assert raw is not None
    assert style_rows([records[0].conv_metadata])[0].tolist() == [raw[0], raw[1]]
