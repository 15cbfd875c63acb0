"""Incremental reader for a (huge) top-level JSON array, built on ``JSONDecoder.raw_decode``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

_CHUNK = 1 << 20
# A record that still does not parse with this much text buffered is malformed, not truncated.
_MAX_RECORD = 64 << 20
_WS = re.compile(r"[ \t\n\r]*")


def iter_array(f: TextIO) -> Iterator[tuple[int, Any, str | None]]:
    """Yield (1-based record number, value, None) or (number, None, error); stops at an error."""
    dec = json.JSONDecoder()
    buf, eof, pos, n = "", False, 0, 0
    expect_value = True

    def fill() -> None:
        nonlocal buf, pos, eof
        more = f.read(_CHUNK)
        eof = not more
        buf, pos = buf[pos:] + more, 0

    fill()
    pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
    if buf[pos : pos + 1] != "[":
        yield 1, None, "malformed JSON: not an array"
        return
    pos += 1
    while True:
        pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
        if pos >= len(buf):
            if eof:
                yield n + 1, None, "truncated file: the array is not closed"
                return
            fill()
            continue
        ch = buf[pos]
        if ch == "]":
            return
        if not expect_value:
            if ch != ",":
                yield n + 1, None, f"malformed JSON: expected ',' or ']' at record {n + 1}"
                return
            pos += 1
            expect_value = True
            continue
        try:
            obj, end = dec.raw_decode(buf, pos)
        except json.JSONDecodeError as e:
            if not eof and len(buf) - pos < _MAX_RECORD:
                fill()
                continue
            truncated = eof and not buf[pos:].rstrip().endswith("]")
            what = "truncated record" if truncated else "malformed JSON"
            yield n + 1, None, f"{what}: {e.msg}; the rest of the file was not read"
            return
        except RecursionError:
            # Where a record this deep ends is unknown without parsing it, so stop here.
            why = "malformed JSON: nested too deeply; the rest of the file was not read"
            yield n + 1, None, why
            return
        if end >= len(buf) and not eof:
            fill()  # a bare number may continue in the next chunk: parse it again
            continue
        n += 1
        expect_value = False
        pos = end
        yield n, obj, None
