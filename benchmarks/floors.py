"""The floors of benchmarks/leaderboard.py: the least each step could cost on the same data.

Each does the unavoidable part of a step and nothing else (parse the file; fetch the rows a
refit or an export reads), so the benchmark can print a figure beside what it could at best be.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from arena.store.style_columns import STYLE_COLUMNS
from arena.votes.records import fetch_records


def json_floor(path: Path) -> float:
    """Seconds to parse every line of the file with the json module, doing nothing else."""
    t = time.perf_counter()
    with path.open(encoding="utf-8") as f:
        for line in f:
            json.loads(line)
    return time.perf_counter() - t


def bare_select(engine: Any, style: bool = False) -> float:
    """Seconds to fetch, doing nothing else, the columns a refit reads for every counted vote:
    its numbers, winner, modality and the three strings hygiene groups by; with `style`, also
    the eight style features (only a board with style control reads them). Each by the cheapest
    way there is: the driver's rows, or on PostgreSQL the columns packed by the database (the
    refit's own way there, arena/votes/records.py), whichever is faster."""
    plain = ("model_a_id", "model_b_id", "winner", "voter_id", "client_ip", "prompt_hash")
    reads = [
        (
            f"SELECT id, {', '.join(plain)}, category_bits, modality FROM vote "
            "WHERE counted AND anony ORDER BY id",
            np.dtype(
                [
                    ("id", np.int64),
                    *((c, object) for c in plain),
                    ("bits", np.int64),
                    ("modality", object),
                ]
            ),
        )
    ]
    if style:
        reads.append(
            (
                f"SELECT id, {', '.join(STYLE_COLUMNS)} FROM vote ORDER BY id",
                np.dtype([("id", np.int64), *((c, np.float64) for c in STYLE_COLUMNS)]),
            )
        )
    total = 0.0
    with engine.connect() as conn:
        for sql, dtype in reads:
            ways = [lambda sql=sql: conn.exec_driver_sql(sql).cursor.fetchall()]
            if conn.dialect.name == "postgresql":
                ways.append(lambda sql=sql, dtype=dtype: fetch_records(conn, text(sql), dtype))
            seconds = []
            for read in ways:
                t = time.perf_counter()
                read()
                seconds.append(time.perf_counter() - t)
            total += min(seconds)
    return total


def export_select(engine: Any) -> None:
    """Fetch the columns an export reads of every vote (with the battle's question id), doing
    nothing else: the floor of an export of battles stored without conversations."""
    plain = (
        "v.id, v.battle_id, v.model_a_id, v.model_b_id, v.winner, v.voter_id, v.anony, "
        "v.created_at, v.excluded, v.exclude_reason, v.leaked, v.counted, v.modality, "
        "CAST(v.categories AS TEXT), b.external_id"
    )
    columns = ", ".join((plain, *(f"v.{c}" for c in STYLE_COLUMNS)))
    with engine.connect() as conn:
        conn.exec_driver_sql(
            f"SELECT {columns} FROM vote v LEFT JOIN battle b ON b.id = v.battle_id ORDER BY v.id"
        ).cursor.fetchall()
