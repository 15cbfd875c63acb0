"""Streaming loader for battle files (JSON Lines or a JSON array, LMSYS/LMArena field names)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TextIO

from ratings.battles import Battles
from ratings.chunks import TOO_DEEP, first_char, iter_record_chunks
from ratings.collector import Collector, record_problem
from ratings.fastjson import decode_chunk
from ratings.jsonstream import iter_array

__all__ = ["LoadReport", "iter_records", "load_battles", "record_problem"]
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


def iter_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any, str | None]]:
    """Every record of a battle file: (line or record number, object, None) or (number, None,
    why it could not be parsed). Validation is the caller's (see `record_problem`)."""
    for block, _ in iter_record_chunks(path):
        yield from block


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
    col = Collector(anony_only, category, style_from_conversations, modality)
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = first_char(f)
        f.seek(0)
        total = _read_array(f, col) if first == "[" else _read_lines(f, col)
    return LoadReport(col.battles(), col.rejected, col.non_anony, col.off_category, total)


def _read_lines(f: TextIO, col: Collector) -> int:
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
    lines: list[str], numbers: Sequence[int], col: Collector, *, last: bool
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


def _read_array(f: TextIO, col: Collector) -> int:
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
