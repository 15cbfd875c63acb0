"""Counted anonymous votes as numpy columns, read from the database incrementally.

Ranking reads every counted vote; at a million votes that read dominates a refit. A worker keeps
the columns it has read and asks the database only for votes newer than the last one it holds.
`count(*)` and `sum(id)` of the counted votes tell it whether an older vote changed (an admin
excluded or re-included one): then it reads everything again. Only a copy of database rows lives
here; a fresh worker rebuilds it with one query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Vote
from arena.votes.hygiene import NONE, VoteColumns
from arena.votes.tags import CATEGORIES

OUTCOME = {"model_a": 0, "model_b": 1, "tie": 2, "tie (bothbad)": 3}
CATEGORY_BIT = {c: 1 << i for i, c in enumerate(CATEGORIES)}
COUNTED = (col(Vote.counted), col(Vote.anony))


@dataclass
class Snapshot:
    """The votes at one moment: the columns ranking needs."""

    votes: VoteColumns
    style: NDArray[np.float64]  # (n, 2, 4); NaN where a vote has no style features
    ids: NDArray[np.int64]  # the votes' ids, to match a category's votes (`category_mask`)


@dataclass
class VoteCache:
    """The counted votes this worker has read so far."""

    max_id: int = 0
    id_sum: int = 0
    chunks: list[dict[str, NDArray[Any]]] = field(default_factory=list)
    codes: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"voter": {}, "ip": {}, "prompt": {}}
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    _snapshot: Snapshot | None = None

    def snapshot(self, engine: Engine) -> Snapshot:
        """All counted anonymous votes, in vote order, as of now."""
        with self.lock:
            with engine.connect() as conn:
                counts: Any = conn.execute(
                    sa_select(func.count(), func.coalesce(func.sum(col(Vote.id)), 0)).where(
                        *COUNTED
                    )
                ).one()
                total, id_sum = int(counts[0]), int(counts[1])
                newer = _columns().where(*COUNTED, col(Vote.id) > self.max_id)
                rows = _fetch(conn, newer.order_by(col(Vote.id)))
                held = sum(len(c["id"]) for c in self.chunks)
                new_sum = int(rows[0].sum()) if rows else 0
                if held + _length(rows) != total or self.id_sum + new_sum != id_sum:
                    # An older vote changed (excluded, included): read everything again.
                    self.max_id, self.id_sum, self.chunks, self._snapshot = 0, 0, [], None
                    everything = _columns().where(*COUNTED).order_by(col(Vote.id))
                    rows = _fetch(conn, everything)
                    new_sum = int(rows[0].sum()) if rows else 0
            if _length(rows) or self._snapshot is None:
                if _length(rows):
                    self.chunks.append(self._encode(rows))
                    self.max_id = int(rows[0][-1])
                    self.id_sum += new_sum
                self._snapshot = self._join()
            return self._snapshot

    def _code(self, kind: str, values: Any, n: int) -> NDArray[np.int64]:
        """Small-integer codes of strings, the same for a string in every chunk (NONE: none)."""
        table = self.codes[kind]
        setdefault = table.setdefault
        return np.fromiter((setdefault(v, len(table)) if v else NONE for v in values), np.int64, n)

    def _encode(self, rows: list[Any]) -> dict[str, NDArray[Any]]:
        n = _length(rows)
        if not n:
            rows = [()] * _WIDTH
        # Floats with NULL come out as NaN: a vote without style features.
        style = np.array(rows[7:], dtype=np.float64).reshape(8, n).T.reshape(n, 2, 4)
        return {
            "id": np.asarray(rows[0], dtype=np.int64),
            "a": np.asarray(rows[1], dtype=np.int64),
            "b": np.asarray(rows[2], dtype=np.int64),
            "outcome": np.asarray(rows[3], dtype=np.int8),
            "voter": self._code("voter", rows[4], n),
            "ip": self._code("ip", rows[5], n),
            "prompt": self._code("prompt", rows[6], n),
            "style": style,
        }

    def _join(self) -> Snapshot:
        if len(self.chunks) > 1:
            self.chunks = [{k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]}]
        c = self.chunks[0] if self.chunks else self._encode([])
        votes = VoteColumns(c["a"], c["b"], c["outcome"], c["voter"], c["ip"], c["prompt"])
        return Snapshot(votes, c["style"], c["id"])


_WIDTH = 15  # the columns of `_columns()`


def _columns() -> Any:
    """Everything ranking reads of a vote, as numbers where it can be (the winner as its code,
    -1 for a label that is none of the four), and the three strings hygiene groups by."""
    return sa_select(
        col(Vote.id),
        col(Vote.model_a_id),
        col(Vote.model_b_id),
        case(OUTCOME, value=col(Vote.winner), else_=-1),
        col(Vote.voter_id),
        col(Vote.client_ip),
        col(Vote.prompt_hash),
        *(getattr(Vote, name) for name in STYLE_COLUMNS),
    )


def _fetch(conn: Connection, stmt: Any) -> list[Any]:
    """The rows of a query as columns (one tuple per column); [] when there are none.

    Straight from the driver's cursor: the values are plain ints, floats and strings already, and
    SQLAlchemy's per-row processing would be most of the time of reading a million votes."""
    # Literal values: the query's only parameters are vote ids and the winner labels.
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.exec_driver_sql(sql).cursor
    assert cursor is not None
    rows = cursor.fetchall()
    if not rows:
        return []
    columns: list[Any] = list(zip(*rows, strict=True))
    columns[0] = np.asarray(columns[0], dtype=np.int64)
    return columns


def _length(rows: list[Any]) -> int:
    return len(rows[0]) if rows else 0


def category_mask(engine: Engine, snap: Snapshot, category: str) -> NDArray[np.bool_]:
    """Which votes of a snapshot carry a category tag: decoded only when a category is asked,
    so the overall board never reads the tags."""
    if category not in CATEGORY_BIT:
        return np.zeros(len(snap.ids), dtype=bool)
    stmt = sa_select(col(Vote.id), col(Vote.categories)).where(*COUNTED)
    with engine.connect() as conn:
        tagged = [i for i, tags in conn.execute(stmt) if category in (tags or ())]
    return np.isin(snap.ids, np.asarray(tagged, dtype=np.int64))
