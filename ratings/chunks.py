"""A battle file as chunks of parsed records, for readers that keep whole records (an import).

JSON Lines are decoded a chunk at a time by msgspec into plain dicts and lists; a chunk with
anything msgspec does not take (a malformed line, NaN, a lone surrogate escape, a line that is
not one object) is parsed line by line with the json module instead, so every line gets the same
value or the same error as `json.loads` gives it. A JSON array is read incrementally.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import islice
from typing import Any, TextIO

import msgspec

from ratings.jsonstream import iter_array

#: (line number, or 1-based record number in an array; the object, or None; why not, or None)
Parsed = tuple[int, Any, str | None]
CHUNK = 20_000
TOO_DEEP = "malformed JSON: nested too deeply"


def iter_record_chunks(
    path: str | os.PathLike[str], *, chunk: int = CHUNK
) -> Iterator[tuple[list[Parsed], int]]:
    """Lists of parsed records in file order, each with the characters read for it (progress)."""
    for block, size, _ in iter_record_blocks(path, chunk=chunk):
        yield block, size


def iter_record_blocks(
    path: str | os.PathLike[str], *, chunk: int = CHUNK
) -> Iterator[tuple[list[Parsed], int, bool]]:
    """`iter_record_chunks`, each chunk also saying whether msgspec decoded it whole (then no
    string in it holds a lone surrogate: msgspec's decoder takes none)."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = first_char(f)
        f.seek(0)
        if first == "[":
            for records, size in _array_chunks(f, chunk):
                yield records, size, False
            return
        start = 0
        block = list(islice(f, chunk))
        while block:
            after = list(islice(f, chunk))
            parsed, clean = _lines_chunk(block, start, last=not after)
            yield parsed, sum(map(len, block)), clean
            start += len(block)
            block = after


def _lines_chunk(block: list[str], start: int, *, last: bool) -> tuple[list[Parsed], bool]:
    numbers = [start + k + 1 for k, line in enumerate(block) if line.strip()]
    lines = [block[n - start - 1] for n in numbers]
    try:
        objs = msgspec.json.decode("[" + ",".join(lines) + "]")
    except (msgspec.DecodeError, RecursionError):
        objs = None
    if objs is not None and len(objs) == len(lines):
        return [(no, obj, None) for no, obj in zip(numbers, objs, strict=True)], True
    out: list[Parsed] = []
    for k, (no, line) in enumerate(zip(numbers, lines, strict=True)):
        try:
            out.append((no, json.loads(line), None))
        except ValueError as e:
            truncated = last and k == len(lines) - 1 and not line.endswith("\n")
            out.append(
                (no, None, f"{'truncated last line' if truncated else 'malformed JSON'}: {e}")
            )
        except RecursionError:
            out.append((no, None, TOO_DEEP))
    return out, False


def _array_chunks(f: TextIO, chunk: int) -> Iterator[tuple[list[Parsed], int]]:
    block: list[Parsed] = []
    for parsed in iter_array(f):
        block.append(parsed)
        if len(block) >= chunk:
            yield block, 0
            block = []
    if block:
        yield block, 0


def first_char(f: TextIO) -> str:
    """The first non-blank character of a text file (the caller seeks back)."""
    while True:
        block = f.read(4096)
        if not block:
            return ""
        stripped = block.lstrip()
        if stripped:
            return stripped[0]
