"""The import's shortcuts give what the long way gives: style features of whole-number metadata,
record times a column at a time, ordered battle ids; and what a large import switches off (SQLite's
foreign key checks, PostgreSQL's foreign keys) is back on after it, however it ends."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

import arena.admin.battlefiles as battlefiles
import arena.admin.import_indexes as import_indexes
from arena.admin.battlefiles import import_battles
from arena.admin.import_keys import BattleIds
from arena.admin.import_rows import _when, record_times
from arena.admin.quick_checks import SLOW, quick
from arena.admin.records import record_store_problem
from ratings.loader import record_problem
from ratings.style import raw_from_metadata

BASE: dict[str, Any] = {
    "sum_assistant_a_tokens": 120,
    "sum_assistant_b_tokens": 80,
    "header_count_a": {"h1": 1, "h2": 2},
    "header_count_b": {"h1": 0},
    "list_count_a": {"ordered": 1, "unordered": 3},
    "list_count_b": 0,
    "bold_count_a": {"**": 2, "__": 0},
    "bold_count_b": 4,
}
BIG = 2**40
METAS: list[dict[str, Any]] = [
    BASE,
    {**BASE, "header_count_a": {"h1": BIG, "h2": BIG, "h3": -BIG}},
    {**BASE, "header_count_a": {"h1": BIG + 1, "h2": 1}},
    {**BASE, "header_count_a": {f"h{k}": 10**12 for k in range(5000)}},
    {**BASE, "header_count_a": {"h1": 2**52, "h2": 1, "h3": -(2**52)}},
    {**BASE, "sum_assistant_a_tokens": BIG + 1},
    {**BASE, "sum_assistant_a_tokens": 10**15},
    {**BASE, "sum_assistant_a_tokens": 10**15 + 1},
    {**BASE, "sum_assistant_a_tokens": {"n": 3}},
    {**BASE, "sum_assistant_a_tokens": True},
    {**BASE, "header_count_a": {"h1": True}},
    {**BASE, "header_count_a": {"h1": {"deep": 1}}},
    {**BASE, "header_count_a": {}},
    {**BASE, "header_count_a": 7.5},
    {**BASE, "turns": 1, "sum_user_tokens": 40},
    {**BASE, "turns": 10**16},
    {**BASE, "turns": {"a": -(10**16)}},
    {**BASE, "turns": "many"},
    {k: v for k, v in BASE.items() if k != "bold_count_b"},
]


@pytest.mark.parametrize("meta", METAS)
def test_whole_number_metadata_gets_the_full_checks_verdict_and_style(
    meta: dict[str, Any],
) -> None:
    obj = {"model_a": "alpha", "model_b": "beta", "winner": "tie", "conv_metadata": meta}
    names: dict[str, str | None] = {}
    problem = record_problem(obj) or record_store_problem(obj, names)
    style = quick(obj, names)
    if style is SLOW:
        return
    assert problem is None
    raw = raw_from_metadata(meta)
    assert style == (None if raw is None else (*raw[0], *raw[1]))


def test_the_fast_path_is_taken_for_whole_numbers() -> None:
    names: dict[str, str | None] = {"alpha": None, "beta": None}
    obj = {"model_a": "alpha", "model_b": "beta", "winner": "tie", "conv_metadata": METAS[1]}
    assert quick(obj, names) == (120.0, float(BIG), 4.0, 2.0, 80.0, 0.0, 0.0, 4.0)


def test_record_times_are_datetime_fromtimestamp_s() -> None:
    rng = random.Random(7)
    stamps: list[Any] = [0, 0.0, -0.0, 5, 1.7e9, 32_503_680_000, 32_503_680_000.0, 0.9999995]
    stamps += [k * 1e-6 + 0.5e-6 + j for k in range(200) for j in (0, 1, 1e9, 1.7e9)]
    stamps += [rng.uniform(0, 3.25e10) for _ in range(2000)] + [rng.randint(0, 2**34)]
    objs = [{"tstamp": t} for t in stamps]
    assert record_times(objs, "now") == [_when(o, "now") for o in objs]
    mixed = [{"tstamp": 5}, {}, {"tstamp": None}]
    assert record_times(mixed, "now") == ["1970-01-01 00:00:05.000000", "now", "now"]
    assert record_times([], "now") == []


def test_battle_ids_are_ordered_hex_and_differ_between_imports() -> None:
    first, second = BattleIds(), BattleIds()
    ids = first.take(3) + first.take(1000)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
    assert not set(ids) & set(second.take(1000))


def _foreign_keys(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return [
                (t, *r)
                for t in import_indexes.TABLES
                for r in conn.exec_driver_sql(f"PRAGMA foreign_key_list({t})")
            ]
        sql = "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM "
        sql += "pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def _checks_on(engine: Any) -> bool:
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return True
        return bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one())


def _file(path: Path, n: int) -> Path:
    record = {"model_a": "alpha", "model_b": "beta", "winner": "tie", "tstamp": 1.7e9}
    lines = [json.dumps({**record, "question_id": f"q{k}"}) for k in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_large_import_leaves_the_foreign_keys_on(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_indexes, "MIN_RECORDS", 1)
    before = _foreign_keys(engine)
    assert before and _checks_on(engine)
    real = battlefiles.insert_tuples
    seen: list[Any] = []

    def spy(conn: Any, table: Any, names: Any, values: Any) -> None:
        if conn.dialect.name == "sqlite":
            seen.append(conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
        else:
            sql = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = "
            seen.append(conn.exec_driver_sql(sql + "'vote'::regclass").scalar_one())
        if len(values) == 13:
            raise RuntimeError("disk full")
        real(conn, table, names, values)

    monkeypatch.setattr(battlefiles, "insert_tuples", spy)
    with pytest.raises(RuntimeError, match="disk full"):
        import_battles(engine, _file(tmp_path / "a.jsonl", 13))
    assert _foreign_keys(engine) == before and _checks_on(engine)
    assert import_battles(engine, _file(tmp_path / "b.jsonl", 50)).imported == 50
    assert _foreign_keys(engine) == before and _checks_on(engine)
    # While it ran, nothing was checked row by row.
    assert seen and set(seen) == {0}
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE vote SET battle_id = 'missing' WHERE id = (SELECT min(id) FROM vote)"
        )


def test_columns_of_one_value_are_stored_as_if_bound(tmp_path: Path) -> None:
    """SQLite's insert writes a column that holds one value in every row into the statement
    (`bulk._sqlite_parameters`): what is stored is what binding it stores. (PostgreSQL's COPY
    sends every value, so this is SQLite's alone.)"""
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table

    from arena.store.bulk import insert_tuples
    from arena.store.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")

    table = Table(
        "bulk_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("word", String(20)),
        Column("n", Integer),
        Column("x", Float),
        Column("note", String(20)),
    )
    rows: list[tuple[Any, ...]] = [
        (1, "it's", 1, 1.0, None),
        (2, "it's", True, 1, None),
        (3, "it's", 1, 1.0, None),
    ]
    names = ("id", "word", "n", "x", "note")
    with engine.begin() as conn:
        table.create(conn)
        try:
            insert_tuples(conn, table, names, rows)
            insert_tuples(conn, table, names, [(k, "é\x00", 2, 2.5, "a") for k in (4, 5)])
            insert_tuples(conn, table, ("id",), [(6,), (7,)])
            stored = conn.exec_driver_sql(
                "SELECT id, word, n, typeof(n), x, typeof(x), note FROM bulk_probe ORDER BY id"
            ).all()
        finally:
            table.drop(conn)
    engine.dispose()
    assert [tuple(r) for r in stored] == [
        (1, "it's", 1, "integer", 1.0, "real", None),
        (2, "it's", 1, "integer", 1.0, "real", None),
        (3, "it's", 1, "integer", 1.0, "real", None),
        (4, "é\x00", 2, "integer", 2.5, "real", "a"),
        (5, "é\x00", 2, "integer", 2.5, "real", "a"),
        (6, None, None, "null", None, "null", None),
        (7, None, None, "null", None, "null", None),
    ]
