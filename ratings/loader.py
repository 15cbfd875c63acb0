"""Streaming loader for battle files (JSON Lines or a JSON array, LMSYS/LMArena field names)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from ratings.battles import WINNER_CODES, Battles
from ratings.chunks import TOO_DEEP, first_char, iter_record_chunks
from ratings.fastjson import Record, StyleMeta, decode_chunk, style_rows
from ratings.jsonstream import iter_array
from ratings.style import raw_from_conversations, raw_from_metadata

_LINES_PER_CHUNK = 20_000


@dataclass
class LoadReport:
    """Battles read from a file, and what was left out and why."""

    battles: Battles
    #: (line number for JSON Lines, 1-based record number for a JSON array; reason)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    skipped_non_anony: int = 0
    skipped_category: int = 0
    total_lines: int = 0


class _Collector:
    """Validates records and accumulates integer arrays; never raises on bad input."""

    def __init__(
        self,
        anony_only: bool,
        category: str | None,
        from_conversations: bool = False,
        modality: str | None = None,
    ) -> None:
        self.anony_only = anony_only
        self.category = category
        self.modality = modality
        self.from_conversations = from_conversations
        self.ids: dict[str, int] = {}
        self.a: list[int] = []
        self.b: list[int] = []
        self.out: list[int] = []
        self.style: list[tuple[int, list[float], list[float]]] = []
        #: (battle indices, their raw style rows) of chunks read a column at a time
        self.style_blocks: list[tuple[NDArray[np.intp], NDArray[np.float64]]] = []
        self.rejected: list[tuple[int, str]] = []
        self.non_anony = 0
        self.off_category = 0

    def add(self, objs: list[Any], numbers: Sequence[int]) -> None:
        """Validate and keep each record; ``numbers`` are the line/record numbers."""
        codes, reject, keep = WINNER_CODES, self.rejected.append, self._keep
        for obj, no in zip(objs, numbers, strict=True):
            problem = record_problem(obj)
            if problem is not None:
                reject((no, problem))
                continue
            get = obj.get
            keep(
                obj["model_a"],
                obj["model_b"],
                codes[obj["winner"]],
                get("anony"),
                get("category"),
                get("modality"),
                get("conv_metadata"),
                obj,
            )

    def add_typed(self, records: list[Record], numbers: Sequence[int]) -> None:
        """`add` for records decoded by `fastjson` (names already strings), a column at a time:
        the same records kept and rejected, with the same messages, in far fewer bytecodes."""
        codes = [WINNER_CODES.get(r.winner) for r in records]
        ma = [r.model_a for r in records]
        mb = [r.model_b for r in records]
        bad = [
            k
            for k, (a, b, c) in enumerate(zip(ma, mb, codes, strict=True))
            if c is None or a == b or not a or not b
        ]
        take = list(range(len(records)))
        if bad:
            for k in bad:
                self.rejected.append((numbers[k], _typed_problem(records[k])))
            skip = set(bad)
            take = [k for k in take if k not in skip]
        if self.anony_only:
            flags = [records[k].anony for k in take]
            shut = [k for k, f in zip(take, flags, strict=True) if f is not None and not f]
            if shut:
                self.non_anony += len(shut)
                closed = set(shut)
                take = [k for k in take if k not in closed]
        if self.modality is not None:
            # A record without `modality` is a text battle (files from before vision battles).
            same = [k for k in take if (records[k].modality or "text") == self.modality]
            self.off_category += len(take) - len(same)
            take = same
        wanted = self.category
        if wanted is not None:
            inside = [k for k in take if _in_category(records[k].category, wanted)]
            self.off_category += len(take) - len(inside)
            take = inside
        if len(take) < len(records):
            records = [records[k] for k in take]
            ma, mb, codes = [ma[k] for k in take], [mb[k] for k in take], [codes[k] for k in take]
        ids = self.ids
        # New names get ids in order of first appearance (a before b), as `_keep` gives them.
        for name in dict.fromkeys(chain.from_iterable(zip(ma, mb, strict=True))):
            if name not in ids:
                ids[name] = len(ids)
        first = len(self.a)
        metas = [r.conv_metadata for r in records]
        typed = [k for k, m in enumerate(metas) if m.__class__ is StyleMeta]
        if typed:
            rows = style_rows([metas[k] for k in typed])
            self.style_blocks.append((np.asarray(typed, dtype=np.intp) + first, rows))
        conv = self.from_conversations
        for k, meta in enumerate(metas):
            if meta.__class__ is StyleMeta or (meta is None and not conv):
                continue
            raw = raw_from_metadata(meta) if meta.__class__ is dict else None
            if raw is None and conv:
                raw = raw_from_conversations(*_conversations(records[k]))
            if raw is not None:
                self.style.append((first + k, raw[0], raw[1]))
        self.a.extend(map(ids.__getitem__, ma))
        self.b.extend(map(ids.__getitem__, mb))
        self.out.extend(codes)  # type: ignore[arg-type]

    def _keep(
        self,
        ma: str,
        mb: str,
        code: int,
        anony: Any,
        category: Any,
        modality: Any,
        meta: Any,
        record: Any,
    ) -> None:
        if self.anony_only and anony is not None and not anony:
            self.non_anony += 1
            return
        if self.category is not None and not _in_category(category, self.category):
            self.off_category += 1
            return
        # A record without `modality` is a text battle (files from before vision battles).
        if self.modality is not None and (modality or "text") != self.modality:
            self.off_category += 1
            return
        ids = self.ids
        ia = ids.get(ma)
        if ia is None:
            ia = ids[ma] = len(ids)
        ib = ids.get(mb)
        if ib is None:
            ib = ids[mb] = len(ids)
        raw = raw_from_metadata(meta) if meta.__class__ is dict else None
        if raw is None and self.from_conversations:
            conv_a, conv_b = _conversations(record)
            raw = raw_from_conversations(conv_a, conv_b)
        if raw is not None:
            self.style.append((len(self.a), raw[0], raw[1]))
        self.a.append(ia)
        self.b.append(ib)
        self.out.append(code)

    def battles(self) -> Battles:
        """The accepted battles; style is None when no record carried conv_metadata."""
        n = len(self.a)
        if not (self.style or self.style_blocks):
            return Battles.from_arrays(list(self.ids), self.a, self.b, self.out)
        style = np.full((n, 2, 4), np.nan)
        for idx, rows in self.style_blocks:
            style[idx] = rows
        if self.style:
            idx = np.fromiter((s[0] for s in self.style), dtype=np.intp, count=len(self.style))
            style[idx, 0] = [s[1] for s in self.style]
            style[idx, 1] = [s[2] for s in self.style]
        return Battles.from_arrays(list(self.ids), self.a, self.b, self.out, style=style)


def _typed_problem(r: Record) -> str:
    """`record_problem`'s words for a typed record that fails it."""
    if r.winner not in WINNER_CODES:
        return f"unknown winner {r.winner!r}"
    if r.model_a == r.model_b:
        return f"model_a equals model_b ({r.model_a!r})"
    return "empty model name"


def _conversations(record: Any) -> tuple[Any, Any]:
    if record.__class__ is dict:
        return record.get("conversation_a"), record.get("conversation_b")
    return getattr(record, "conversation_a", None), getattr(record, "conversation_b", None)


def record_problem(obj: Any) -> str | None:
    """Why a battle record cannot be used, or None when it can (the one rule for every reader)."""
    if obj.__class__ is not dict:
        return "not a JSON object"
    ma, mb, w = obj.get("model_a"), obj.get("model_b"), obj.get("winner")
    if ma.__class__ is not str or mb.__class__ is not str or w.__class__ is not str:
        for key in ("model_a", "model_b", "winner"):
            if key not in obj:
                return f"missing field {key!r}"
            if not isinstance(obj[key], str):
                return f"field {key!r} is not a string"
    if w not in WINNER_CODES:
        return f"unknown winner {w!r}"
    if ma == mb:
        return f"model_a equals model_b ({ma!r})"
    if not ma or not mb:
        return "empty model name"
    return None


def iter_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any, str | None]]:
    """Every record of a battle file: (line or record number, object, None) or (number, None,
    why it could not be parsed). Validation is the caller's (see `record_problem`)."""
    for block, _ in iter_record_chunks(path):
        yield from block


def _in_category(value: Any, wanted: str) -> bool:
    if isinstance(value, str):
        return value == wanted
    if isinstance(value, list):
        return wanted in value
    return False


def load_battles(
    path: str | os.PathLike[str],
    *,
    anony_only: bool = True,
    category: str | None = None,
    style_from_conversations: bool = False,
    modality: str | None = None,
) -> LoadReport:
    """Read a battle file in a streaming way; bad records are reported, never fatal.

    With ``style_from_conversations``, a record without usable ``conv_metadata`` gets its style
    features from its conversations (as an import computes them); off by default because
    counting markdown in every answer is far slower than reading the file."""
    col = _Collector(anony_only, category, style_from_conversations, modality)
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = first_char(f)
        f.seek(0)
        total = _read_array(f, col) if first == "[" else _read_lines(f, col)
    return LoadReport(col.battles(), col.rejected, col.non_anony, col.off_category, total)


def _read_lines(f: TextIO, col: _Collector) -> int:
    """JSON Lines: decode each chunk of lines at once (typed, msgspec); else parse it as one JSON
    array (json module); fall back per line on error."""
    start = 0
    while True:
        chunk = list(islice(f, _LINES_PER_CHUNK))
        if not chunk:
            return start
        numbers: Sequence[int]
        if any(map(str.isspace, chunk)):  # blank lines (`not line.strip()`) are skipped
            numbers = [start + k + 1 for k, line in enumerate(chunk) if not line.isspace()]
            lines = [chunk[n - start - 1] for n in numbers]
        else:
            numbers, lines = range(start + 1, start + len(chunk) + 1), chunk
        start += len(chunk)
        typed = decode_chunk(lines, conversations=col.from_conversations)
        if typed is not None:
            col.add_typed(typed, numbers)
            continue
        objs: list[Any] | None
        try:
            objs = json.loads("[" + ",".join(lines) + "]")
        except (ValueError, RecursionError):
            objs = None
        # A chunk parses as a whole only if every line held exactly one object.
        if objs is None or len(objs) != len(lines) or any(o.__class__ is not dict for o in objs):
            objs, numbers = _parse_each(lines, numbers, col, last=len(chunk) < _LINES_PER_CHUNK)
        col.add(objs, numbers)


def _parse_each(
    lines: list[str], numbers: Sequence[int], col: _Collector, *, last: bool
) -> tuple[list[Any], list[int]]:
    objs: list[Any] = []
    kept: list[int] = []
    for k, (line, no) in enumerate(zip(lines, numbers, strict=True)):
        try:
            objs.append(json.loads(line))
            kept.append(no)
        except ValueError as e:
            truncated = last and k == len(lines) - 1 and not line.endswith("\n")
            what = "truncated last line" if truncated else "malformed JSON"
            col.rejected.append((no, f"{what}: {e}"))
        except RecursionError:
            col.rejected.append((no, TOO_DEEP))
    return objs, kept


def _read_array(f: TextIO, col: _Collector) -> int:
    objs: list[Any] = []
    numbers: list[int] = []
    total = 0
    for no, obj, error in iter_array(f):
        total = no
        if error is not None:
            col.rejected.append((no, error))
            continue
        objs.append(obj)
        numbers.append(no)
        if len(objs) >= _LINES_PER_CHUNK:
            col.add(objs, numbers)
            objs, numbers = [], []
    col.add(objs, numbers)
    return total
