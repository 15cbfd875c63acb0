"""Typed decoding of JSON Lines chunks with msgspec: only the fields ranking reads.

A chunk of lines is decoded as one JSON array of records with the three required strings; the
fields ranking never reads (conversations, unless asked for) are skipped without becoming Python
objects. A chunk with anything else in it (a missing field, a non-string name, a line that is not
one object, NaN, a malformed line) is not decoded here at all: the caller reads it line by line
with the json module, so what is rejected, and with which message, does not change.

The structs are not tracked by the garbage collector (``gc=False``): what a JSON decoder builds
holds no reference cycles, and a million records of seven structs each otherwise cost more in
collections than in decoding.

``conv_metadata`` is first decoded into `StyleMeta` (the contract's shape with whole counts),
whose style rows `style_rows` builds a column at a time; a chunk whose metadata has any other
shape (a count that is a float or a string, a key missing, an unknown key in a count table) is
decoded again with the metadata as plain values, which `ratings.style.raw_from_metadata` reads
record by record as before.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import numpy as np
from numpy.typing import NDArray

#: A whole count small enough that any sum of a table's counts is exact in a float, in any
#: order (so the totals equal `raw_from_metadata`'s, which sums in the file's key order).
Count = Annotated[int, msgspec.Meta(ge=-(2**40), le=2**40)]


class _Headers(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    h1: Count = 0
    h2: Count = 0
    h3: Count = 0
    h4: Count = 0
    h5: Count = 0
    h6: Count = 0


class _Lists(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    ordered: Count = 0
    unordered: Count = 0


class _Bold(
    msgspec.Struct, forbid_unknown_fields=True, gc=False, rename={"stars": "**", "under": "__"}
):
    stars: Count = 0
    under: Count = 0


class StyleMeta(msgspec.Struct, gc=False):
    """``conv_metadata`` with whole counts (a count table, or one number, per feature and side);
    other keys are ignored, as `raw_from_metadata` ignores them."""

    sum_assistant_a_tokens: Count
    header_count_a: Count | _Headers
    list_count_a: Count | _Lists
    bold_count_a: Count | _Bold
    sum_assistant_b_tokens: Count
    header_count_b: Count | _Headers
    list_count_b: Count | _Lists
    bold_count_b: Count | _Bold


class Record(msgspec.Struct, gc=False):
    """A battle record as ranking reads it."""

    model_a: str
    model_b: str
    winner: str
    anony: Any = None
    category: Any = None
    modality: Any = None
    conv_metadata: Any = None


class RecordWithConversations(Record):
    """A battle record with the conversations, for style features computed from the answers."""

    conversation_a: Any = None
    conversation_b: Any = None


class StyledRecord(msgspec.Struct, gc=False):
    """`Record` whose ``conv_metadata``, when there is one, has the contract's shape."""

    model_a: str
    model_b: str
    winner: str
    anony: Any = None
    category: Any = None
    modality: Any = None
    conv_metadata: StyleMeta | None = None


class StyledRecordWithConversations(StyledRecord):
    """`StyledRecord` with the conversations."""

    conversation_a: Any = None
    conversation_b: Any = None


_DECODERS: dict[tuple[bool, bool], msgspec.json.Decoder[Any]] = {
    (False, True): msgspec.json.Decoder(list[StyledRecord]),
    (True, True): msgspec.json.Decoder(list[StyledRecordWithConversations]),
    (False, False): msgspec.json.Decoder(list[Record]),
    (True, False): msgspec.json.Decoder(list[RecordWithConversations]),
}


def decode_chunk(lines: list[str], *, conversations: bool = False) -> list[Any] | None:
    """The records of these lines (one per line), or None when the chunk needs the slow path."""
    text = "[" + ",".join(lines) + "]"
    for styled in (True, False):
        try:
            records: list[Any] = _DECODERS[conversations, styled].decode(text)
        except (msgspec.DecodeError, RecursionError):
            continue
        return records if len(records) == len(lines) else None
    return None


def style_rows(metas: list[StyleMeta]) -> NDArray[np.float64]:
    """Raw [tokens, headers, lists, bold] of sides a and b, shape (len(metas), 2, 4): what
    `raw_from_metadata` gives for each, a column at a time."""
    ha = [m.header_count_a for m in metas]
    hb = [m.header_count_b for m in metas]
    la = [m.list_count_a for m in metas]
    lb = [m.list_count_b for m in metas]
    ba = [m.bold_count_a for m in metas]
    bb = [m.bold_count_b for m in metas]
    columns = [
        [m.sum_assistant_a_tokens for m in metas],
        [h if isinstance(h, int) else h.h1 + h.h2 + h.h3 + h.h4 + h.h5 + h.h6 for h in ha],
        [x if isinstance(x, int) else x.ordered + x.unordered for x in la],
        [x if isinstance(x, int) else x.stars + x.under for x in ba],
        [m.sum_assistant_b_tokens for m in metas],
        [h if isinstance(h, int) else h.h1 + h.h2 + h.h3 + h.h4 + h.h5 + h.h6 for h in hb],
        [x if isinstance(x, int) else x.ordered + x.unordered for x in lb],
        [x if isinstance(x, int) else x.stars + x.under for x in bb],
    ]
    out: NDArray[np.float64] = np.array(columns, dtype=np.float64).T.reshape(len(metas), 2, 4)
    return out
