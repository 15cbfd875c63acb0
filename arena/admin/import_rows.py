"""A checked battle record as the rows an import inserts: battle, turns, answers and vote.

Plain dicts for Core bulk inserts (executemany), not ORM objects: at a million records the
per-object bookkeeping of the ORM, not the database, was what an import spent its time on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np

from arena.admin.battle_images import record_modality
from arena.admin.quick_checks import SLOW
from arena.admin.records import messages
from arena.store.style_columns import STYLE_COLUMNS, style_fields
from arena.votes.category_bits import bits_of
from arena.votes.tags import PromptTags, prompt_hash, prompt_tags, with_answers
from ratings.style import raw_from_conversations, raw_from_metadata


def fingerprint(obj: dict[str, Any]) -> str:
    """The duplicate key of a record: its question_id, else a hash of what it says."""
    qid = obj.get("question_id")
    if isinstance(qid, str | int) and str(qid):
        # Cutting a long id could make two battles one; a hash of it cannot.
        text = str(qid)
        return text if len(text) <= 200 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    keys = ("model_a", "model_b", "winner", "tstamp", "judge", "conversation_a", "conversation_b")
    blob = json.dumps([obj.get(k) for k in keys], sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def turns_of(obj: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Prompts and each side's answers, from the two conversations."""
    conv_a = messages(obj.get("conversation_a")) or []
    conv_b = messages(obj.get("conversation_b")) or []
    prompts = [m["content"] for m in conv_a if m["role"] == "user"]
    answers_a = [m["content"] for m in conv_a if m["role"] == "assistant"]
    answers_b = [m["content"] for m in conv_b if m["role"] == "assistant"]
    n = len(prompts)
    pad = [""] * n
    return prompts, (answers_a + pad)[:n], (answers_b + pad)[:n]


#: The columns an import writes, in the order of the tuples `add_record` makes.
BATTLE_COLUMNS = (
    "id",
    "voter_id",
    "client_ip",
    "model_a_id",
    "model_b_id",
    "status",
    "anony",
    "external_id",
    "created_at",
    "updated_at",
)
TURN_COLUMNS = ("battle_id", "index", "prompt", "status", "created_at", "cancel_requested")
ANSWER_COLUMNS = (
    "side",
    "endpoint_id",
    "status",
    "content",
    "finish_reason",
    "attempts",
    "updated_at",
)
VOTE_COLUMNS = (
    "battle_id",
    "winner",
    "voter_id",
    "client_ip",
    "model_a_id",
    "model_b_id",
    "anony",
    "leaked",
    "excluded",
    "exclude_reason",
    "counted",
    "categories",
    "category_bits",
    "modality",
    *STYLE_COLUMNS,
    "prompt_hash",
    "created_at",
)
_NO_STYLE = (None,) * len(STYLE_COLUMNS)
_encode_json = msgspec.json.Encoder().encode


@dataclass
class Rows:
    """The rows of a batch of records as tuples of driver values (booleans as 0/1, times as
    SQLAlchemy's SQLite text, which PostgreSQL reads as the same time); `answers[k]` are the
    two answers of `turns[k]`, whose turn id is known only once the turns are inserted."""

    battles: list[tuple[Any, ...]] = field(default_factory=list)
    turns: list[tuple[Any, ...]] = field(default_factory=list)
    answers: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = field(default_factory=list)
    votes: list[tuple[Any, ...]] = field(default_factory=list)
    # Records naming images, with the index of their first turn in `turns`.
    images: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    #: The prompt side of the tags of prompts seen before (the rules are most of a
    #: conversation's cost, and arena prompts repeat); shared by the batches of one import.
    seen_prompts: dict[tuple[str, ...], PromptTags] = field(default_factory=dict)


def column_defaults(model: Any) -> dict[str, Any]:
    """A table model's Python-side defaults for the columns a bulk insert may leave out (the ORM
    fills them in; Core inserts do not), e.g. a column added by a later migration."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name != "id" and not info.is_required() and name in model.__table__.columns:
            out[name] = info.get_default(call_default_factory=True)
    return out


def time_text(value: datetime) -> str:
    """A naive datetime as SQLAlchemy stores it in SQLite (microseconds always present)."""
    return value.isoformat(" ", "microseconds")


def _when(obj: dict[str, Any], now: str) -> str:
    tstamp = obj.get("tstamp")
    if isinstance(tstamp, int | float) and not isinstance(tstamp, bool):
        # The UTC time as text; the "+00:00" that an aware datetime adds is cut off.
        return datetime.fromtimestamp(float(tstamp), UTC).isoformat(" ", "microseconds")[:26]
    return now


def record_times(objs: list[dict[str, Any]], now: str) -> list[str]:
    """`_when` of each checked record (its tstamp, a number from 0 to `records.MAX_TSTAMP`, or
    none), a column at a time: the same split into seconds and microseconds, rounded half to
    even, as `datetime.fromtimestamp`."""
    stamps = [o.get("tstamp") for o in objs]
    numbers = [t.__class__ is float or t.__class__ is int for t in stamps]
    if not all(numbers):
        return [_when(o, now) for o in objs]
    seconds, us = np.modf(np.array(stamps, dtype=np.float64))[::-1]
    micros = np.rint(us * 1e6).astype(np.int64) + seconds.astype(np.int64) * 1_000_000
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us").tolist()
    return [t.replace("T", " ") for t in text]


#: How many prompts' tags an import keeps (then it starts again): some MB of prompts at most.
_SEEN_PROMPTS = 50_000


def _prompt_tags(rows: Rows, prompts: list[str]) -> PromptTags:
    key = tuple(prompts)
    tags = rows.seen_prompts.get(key)
    if tags is None:
        if len(rows.seen_prompts) >= _SEEN_PROMPTS:
            rows.seen_prompts.clear()
        tags = rows.seen_prompts[key] = prompt_tags(prompts)
    return tags


def add_record(
    rows: Rows,
    obj: dict[str, Any],
    key: str,
    ids: dict[str, int],
    when: str,
    battle_id: str,
    style: Any = SLOW,
) -> None:
    """Append the rows of one checked record (`ids`: model name to endpoint id; `when`: its
    time, from `record_times`; `style`: its 8 style features, None, or SLOW when not worked
    out yet)."""
    get = obj.get
    if get("conversation_a") is None and get("conversation_b") is None:
        prompts: list[str] = []
        answers_a: list[str] = []
        answers_b: list[str] = []
    else:
        prompts, answers_a, answers_b = turns_of(obj)
    a, b = ids[obj["model_a"]], ids[obj["model_b"]]
    judge = str(get("judge") or "import")[:64]
    anony = 0 if get("anony") is False else 1
    modality = "text" if get("modality") is None and "images" not in obj else record_modality(obj)
    if modality == "vision":
        rows.images.append((obj, len(rows.turns)))
    rows.battles.append((battle_id, judge, None, a, b, "voted", anony, key, when, when))
    for index, prompt in enumerate(prompts):
        rows.turns.append((battle_id, index, prompt, "done", when, 0))
        rows.answers.append(
            (
                ("a", a, "done", answers_a[index], "stop", 1, when),
                ("b", b, "done", answers_b[index], "stop", 1, when),
            )
        )
    if style is SLOW:
        meta = get("conv_metadata")
        raw = raw_from_metadata(meta) if isinstance(meta, dict) else None
        style = None if raw is None else (*raw[0], *raw[1])
    if style is None and prompts:
        # The same features `arena leaderboard --battles FILE --style-control` computes.
        raw = raw_from_conversations(get("conversation_a"), get("conversation_b"))
        style = None if raw is None else tuple(style_fields([*raw[0], *raw[1]]).values())
    # From conv_metadata: 8 finite floats already (both ways of working them out check).
    values = _NO_STYLE if style is None else style
    tags = with_answers(_prompt_tags(rows, prompts), answers_a, answers_b) if prompts else []
    category, language = get("category"), get("language")
    if category is not None or language is not None:
        for extra in (category, language):
            for tag in extra if isinstance(extra, list) else [extra]:
                if isinstance(tag, str) and tag and tag.lower() not in tags:
                    tags.append(tag.lower())
    excluded = bool(get("excluded"))
    counted = get("counted")
    reason = get("exclude_reason")
    rows.votes.append(
        (
            battle_id,
            obj["winner"],
            judge,
            None,
            a,
            b,
            anony,
            1 if get("leaked") else 0,
            1 if excluded else 0,
            str(reason)[:500] if excluded and reason is not None else None,
            int(bool(counted) if isinstance(counted, bool) else not excluded),
            _encode_json(tags).decode() if tags else "[]",
            bits_of(tags) if tags else 0,
            modality,
            *values,
            prompt_hash(prompts[0]) if prompts else None,
            when,
        )
    )
