"""Typed decoding of JSON Lines chunks with msgspec: only the fields ranking reads.

A chunk of lines is decoded as one JSON array of records with the three required strings; the
fields ranking never reads (conversations, unless asked for) are skipped without becoming Python
objects. A chunk with anything else in it (a missing field, a non-string name, a line that is not
one object, NaN, a malformed line) is not decoded here at all: the caller reads it line by line
with the json module, so what is rejected, and with which message, does not change.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Record(msgspec.Struct):
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


_DECODERS: dict[bool, msgspec.json.Decoder[Any]] = {
    False: msgspec.json.Decoder(list[Record]),
    True: msgspec.json.Decoder(list[RecordWithConversations]),
}


def decode_chunk(lines: list[str], *, conversations: bool = False) -> list[Any] | None:
    """The records of these lines (one per line), or None when the chunk needs the slow path."""
    try:
        records: list[Any] = _DECODERS[conversations].decode("[" + ",".join(lines) + "]")
    except (msgspec.DecodeError, RecursionError):
        return None
    return records if len(records) == len(lines) else None
