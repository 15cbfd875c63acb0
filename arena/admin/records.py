"""The checks a battle record passes before an import stores it, beyond `ratings`' rule.

Each returns why a record cannot be stored, or None: a bad record is skipped with its line
number (or stops a --strict import there), and never aborts the rest of the file.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from typing import Any

import msgspec
from pydantic import ValidationError

from arena.store.endpoint_models import EndpointCreate

# 1970 to the year 3000: what a battle's time can be (datetime cannot hold 1e20 or -1e15).
MAX_TSTAMP = 32_503_680_000.0
# Counts in conv_metadata: far beyond any real answer, still exact as a float.
MAX_COUNT = 1e15
PLACEHOLDER_URL = "http://imported.invalid/v1"


def messages(value: Any) -> list[dict[str, str]] | None:
    """An OpenAI-style message list as role/content strings; None when it is not one."""
    if value is None:
        return []
    if not isinstance(value, list):
        return None
    out = []
    for m in value:
        if not isinstance(m, dict) or not isinstance(m.get("content", ""), str):
            return None
        out.append({"role": str(m.get("role", "")), "content": str(m.get("content") or "")})
    return out


def _number(value: Any, limit: float) -> bool:
    """A finite number within ±limit (an int of 400 digits is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value)) and abs(float(value)) <= limit
    except OverflowError:
        return False


def _metadata_problem(meta: Any) -> str | None:
    if meta is None:
        return None
    if not isinstance(meta, Mapping):
        return "field 'conv_metadata' is not an object"
    for key, value in meta.items():
        values = value.values() if isinstance(value, Mapping) else [value]
        for v in values:
            if isinstance(v, int | float) and not _number(v, MAX_COUNT):
                return f"field 'conv_metadata' has an out-of-range number in {str(key)[:40]!r}"
    return None


def name_problem(field: str, name: str) -> str | None:
    """Why a model name cannot become an endpoint: the endpoints' own rule, and no invisible
    formatting characters (U+202E flips text) or markup."""
    try:
        checked = EndpointCreate.model_validate(
            {"name": name, "base_url": PLACEHOLDER_URL, "model": "imported"}
        ).name
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        return f"field {field!r} is not a valid model name ({len(name)} characters): {reason}"
    if checked != name:
        return f"field {field!r} has leading or trailing white space"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in name) or any(
        ch in name for ch in "<>"
    ):
        return f"field {field!r} holds control, formatting or markup characters"
    return None


def optional_problem(obj: dict[str, Any]) -> str | None:
    """Why an optional field cannot be used, or None."""
    tstamp = obj.get("tstamp")
    if tstamp is not None and (not _number(tstamp, MAX_TSTAMP) or tstamp < 0):
        return "field 'tstamp' is not a time (unix seconds from 1970 to 3000)"
    if "anony" in obj and not isinstance(obj["anony"], bool | type(None)):
        return "field 'anony' is not true/false"
    for side in ("conversation_a", "conversation_b"):
        if messages(obj.get(side)) is None:
            return f"field {side!r} is not a list of messages"
    return _metadata_problem(obj.get("conv_metadata"))


def record_store_problem(obj: dict[str, Any], names: dict[str, str | None]) -> str | None:
    """Everything an import checks past `ratings.loader.record_problem`; `names` caches the
    verdict on each model name."""
    for field in ("model_a", "model_b"):
        name = obj[field]
        if name not in names:
            names[name] = name_problem(field, name)
        if names[name]:
            return names[name]
    if problem := optional_problem(obj):
        return problem
    if not _encodable(obj):
        return "the record holds invalid Unicode (a lone surrogate such as \\ud800)"
    return None


def _encodable(obj: Any) -> bool:
    """Whether every string of a record can be stored as UTF-8 (msgspec's encoder finds out an
    order of magnitude faster than json.dumps; the json module decides what msgspec cannot)."""
    try:
        msgspec.json.encode(obj)
        return True
    except UnicodeEncodeError:
        return False
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
