"""The records of an export as msgspec structs: encoded with their keys in the file's order,
and not tracked by the garbage collector (a batch of ten thousand records of plain dicts costs
as much in collections as in building them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgspec


class _Headers(msgspec.Struct, gc=False):
    h1: int
    h2: int = 0
    h3: int = 0
    h4: int = 0
    h5: int = 0
    h6: int = 0


class _Lists(msgspec.Struct, gc=False):
    ordered: int
    unordered: int


class _Bold(msgspec.Struct, gc=False, rename={"stars": "**", "under": "__"}):
    stars: int
    under: int = 0


class StyleMetadata(msgspec.Struct, gc=False):
    """`conv_metadata` of a battle stored without its conversation, from its style columns."""

    sum_assistant_a_tokens: int
    header_count_a: _Headers
    list_count_a: _Lists
    bold_count_a: _Bold
    sum_assistant_b_tokens: int
    header_count_b: _Headers
    list_count_b: _Lists
    bold_count_b: _Bold


class ExportRecord(msgspec.Struct, gc=False):
    """One exported battle, its keys in the file's order (`images` and `image_data` only when
    set)."""

    question_id: str
    model_a: str
    model_b: str
    winner: str
    judge: str
    turn: int
    anony: bool
    tstamp: float
    excluded: bool
    exclude_reason: str | None
    leaked: bool
    counted: bool
    category: tuple[str, ...]
    conversation_a: Sequence[dict[str, str]]
    conversation_b: Sequence[dict[str, str]]
    conv_metadata: Any
    modality: str
    images: list[list[str]] | msgspec.UnsetType = msgspec.UNSET
    image_data: dict[str, str] | msgspec.UnsetType = msgspec.UNSET


def style_metadata(style: Any) -> StyleMetadata | None:
    """`conv_metadata` from a vote's 8 style columns (None when any is NULL)."""
    if len(style) != 8 or None in style:
        return None
    ta, ha, la, ba, tb, hb, lb, bb = map(int, map(float, style))
    return StyleMetadata(
        ta, _Headers(ha), _Lists(0, la), _Bold(ba), tb, _Headers(hb), _Lists(0, lb), _Bold(bb)
    )


def categories_of(value: Any) -> tuple[str, ...]:
    """The stored categories (JSON text, or a list where the driver decoded it already)."""
    if not isinstance(value, str):
        return tuple(value)
    try:
        return tuple(msgspec.json.decode(value))
    except msgspec.DecodeError:
        return tuple(json.loads(value))
