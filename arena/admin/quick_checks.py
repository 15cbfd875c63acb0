"""A quick verdict on a battle record, for the common case of an import.

`quick` accepts a record only when every check of an import (`ratings.loader.record_problem`
and `records.record_store_problem`) surely passes, and returns its style features on the way;
anything it is not sure of is SLOW, and the caller runs the full checks on that record, so what
is rejected, with which message and line number, never depends on this module. It trusts that
the record came from msgspec's decoder, which takes no lone surrogate (the one thing
`records._encodable` looks for).
"""

from __future__ import annotations

import math
from typing import Any, Final

from arena.admin.records import MAX_COUNT, MAX_TSTAMP, messages, record_store_problem
from ratings.battles import WINNER_CODES
from ratings.loader import record_problem
from ratings.style import raw_from_metadata


class _Slow:
    """The type of SLOW."""


#: "Run the full checks on this record."
SLOW: Final = _Slow()
#: The conv_metadata keys of the eight style features, in the style columns' order.
_TOKENS_A, _TOKENS_B = "sum_assistant_a_tokens", "sum_assistant_b_tokens"
_COUNTS_A = ("header_count_a", "list_count_a", "bold_count_a")
_COUNTS_B = ("header_count_b", "list_count_b", "bold_count_b")
_FEATURES = (_TOKENS_A, *_COUNTS_A, _TOKENS_B, *_COUNTS_B)
_TOKENS = frozenset((_TOKENS_A, _TOKENS_B))
_WHOLE = 2**40

Style = tuple[float, ...] | None


def quick(obj: Any, names: dict[str, str | None]) -> Style | _Slow:
    """The record's style features (8 floats, or None) when it surely passes every check;
    SLOW otherwise. `names` is the full checks' cache of model names (None: a good name)."""
    if obj.__class__ is not dict:
        return SLOW
    get = obj.get
    ma, mb, winner = get("model_a"), get("model_b"), get("winner")
    if (
        ma.__class__ is not str
        or mb.__class__ is not str
        or winner.__class__ is not str
        or winner not in WINNER_CODES
        or ma == mb
        or not ma
        or not mb
        or names.get(ma, SLOW) is not None
        or names.get(mb, SLOW) is not None
    ):
        return SLOW
    tstamp = get("tstamp")
    if tstamp is not None:
        kind = tstamp.__class__
        if (kind is not float and kind is not int) or not 0 <= tstamp <= MAX_TSTAMP:
            return SLOW
    anony = get("anony")
    if anony is not None and anony is not True and anony is not False:
        return SLOW
    conv_a, conv_b = get("conversation_a"), get("conversation_b")
    if (conv_a is not None or conv_b is not None) and (
        messages(conv_a) is None or messages(conv_b) is None
    ):
        return SLOW
    meta = get("conv_metadata")
    if meta is None:
        return None
    if meta.__class__ is not dict:
        return SLOW
    return _whole_style(meta)


def _whole_style(meta: dict[str, Any]) -> Style | _Slow:
    """`_counts_ok` and `_style` in one pass, for the common metadata: the eight features as
    whole numbers, or tables of at most 4,096 whole numbers, within ±2^40, so that every sum
    is exact (the same float in any order); any other, the two steps."""
    out = []
    for key in _FEATURES:
        value: Any = meta.get(key)
        kind = value.__class__
        if kind is int and -_WHOLE <= value <= _WHOLE:
            out.append(float(value))
        elif kind is dict and key not in _TOKENS and len(value) <= 4096:
            total = 0
            for v in value.values():
                if v.__class__ is not int or not -_WHOLE <= v <= _WHOLE:
                    return _two_steps(meta)
                total += v
            out.append(float(total))
        else:
            return _two_steps(meta)
    if len(meta) > len(_FEATURES) and not _counts_ok(meta):
        return SLOW
    return tuple(out)


def _two_steps(meta: dict[str, Any]) -> Style | _Slow:
    return _style(meta) if _counts_ok(meta) else SLOW


def checked_records(
    chunk: list[tuple[int, Any, str | None]],
    rejected: list[tuple[int, str]],
    names: dict[str, str | None],
    *,
    strict: bool,
    clean: bool,
) -> tuple[list[tuple[dict[str, Any], Any]], int]:
    """The usable records of a chunk, each with its style features (SLOW: not worked out), and
    how many records were read; the others go to `rejected` with their line numbers. With
    `strict`, reading stops at the first bad record. `clean`: msgspec decoded the chunk, so
    `quick` may vouch for a record; every record it is not sure of gets the full checks, and
    their message."""
    good: list[tuple[dict[str, Any], Any]] = []
    keep = good.append
    read = 0
    for read, (no, obj, error) in enumerate(chunk, 1):  # noqa: B007 (read counts the records)
        style = quick(obj, names) if clean else SLOW
        if style is not SLOW:
            keep((obj, style))
            continue
        problem = error or record_problem(obj) or record_store_problem(obj, names)
        if problem:
            rejected.append((no, problem))
            if strict:
                break
        else:
            keep((obj, SLOW))
    return good, read


def _counts_ok(meta: dict[str, Any]) -> bool:
    """Whether `records._metadata_problem` surely finds nothing (numbers within ±MAX_COUNT; a
    true/false among them is its problem, and so is left to it)."""
    for value in meta.values():
        kind = value.__class__
        if kind is dict:
            for v in value.values():
                k = v.__class__
                if k is int or k is float:
                    if not -MAX_COUNT <= v <= MAX_COUNT:
                        return False
                elif k is bool:
                    return False
        elif kind is int or kind is float:
            if not -MAX_COUNT <= value <= MAX_COUNT:
                return False
        elif kind is bool:
            return False
    return True


def _style(meta: dict[str, Any]) -> Style:
    """`ratings.style.raw_from_metadata`, flat: the same conversions, sums in the same order;
    whatever it would have to think about twice (a sum that is not finite) is left to it."""
    try:
        out = (
            float(meta[_TOKENS_A]),
            *[_count(meta[key]) for key in _COUNTS_A],
            float(meta[_TOKENS_B]),
            *[_count(meta[key]) for key in _COUNTS_B],
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(sum(out)):
        return _slow_style(meta)
    return out


def _count(value: Any) -> float:
    """`ratings.style._sum_counts` for a decoded value."""
    if value.__class__ is dict:
        return float(sum(map(float, value.values())))
    return float(value)


def _slow_style(meta: dict[str, Any]) -> Style:
    raw = raw_from_metadata(meta)
    return None if raw is None else (*raw[0], *raw[1])
