"""A checked battle record as the rows an import inserts: battle, turns, answers and vote.

Plain dicts for Core bulk inserts (executemany), not ORM objects: at a million records the
per-object bookkeeping of the ORM, not the database, was what an import spent its time on.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arena.admin.battle_images import record_modality
from arena.admin.records import messages
from arena.store.style_columns import style_fields
from arena.votes.category_bits import bits_of
from arena.votes.tags import conversation_tags, prompt_hash
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


@dataclass
class Rows:
    """The rows of a batch of records; `answers[k]` are the two answers of `turns[k]`, whose
    turn id is known only once the turns are inserted."""

    battles: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    # Records naming images, with the index of their first turn in `turns`.
    images: list[tuple[dict[str, Any], int]] = field(default_factory=list)


def column_defaults(model: Any) -> dict[str, Any]:
    """A table model's Python-side defaults for the columns a bulk insert may leave out (the ORM
    fills them in; Core inserts do not), e.g. a column added by a later migration."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name != "id" and not info.is_required() and name in model.__table__.columns:
            out[name] = info.get_default(call_default_factory=True)
    return out


def _when(obj: dict[str, Any], now: datetime) -> datetime:
    tstamp = obj.get("tstamp")
    if isinstance(tstamp, int | float) and not isinstance(tstamp, bool):
        return datetime.fromtimestamp(float(tstamp), UTC).replace(tzinfo=None)
    return now


def add_record(
    rows: Rows, obj: dict[str, Any], key: str, ids: dict[str, int], now: datetime
) -> None:
    """Append the rows of one checked record (`ids`: model name to endpoint id)."""
    prompts, answers_a, answers_b = turns_of(obj)
    a, b = ids[obj["model_a"]], ids[obj["model_b"]]
    when = _when(obj, now)
    judge = str(obj.get("judge") or "import")[:64]
    anony = obj.get("anony") is not False
    battle_id = secrets.token_hex(12)
    modality = record_modality(obj)
    if modality == "vision":
        rows.images.append((obj, len(rows.turns)))
    rows.battles.append(
        {
            "id": battle_id,
            "voter_id": judge,
            "client_ip": None,
            "model_a_id": a,
            "model_b_id": b,
            "status": "voted",
            "anony": anony,
            "external_id": key,
            "created_at": when,
            "updated_at": when,
        }
    )
    for index, prompt in enumerate(prompts):
        rows.turns.append(
            {
                "battle_id": battle_id,
                "index": index,
                "prompt": prompt,
                "status": "done",
                "created_at": when,
                "cancel_requested": False,
            }
        )
        rows.answers.append(
            tuple(  # type: ignore[arg-type]
                {
                    "side": side,
                    "endpoint_id": model_id,
                    "status": "done",
                    "content": answers[index],
                    "finish_reason": "stop",
                    "attempts": 1,
                    "updated_at": when,
                }
                for side, answers, model_id in (("a", answers_a, a), ("b", answers_b, b))
            )
        )
    meta = obj.get("conv_metadata")
    raw = raw_from_metadata(meta) if isinstance(meta, dict) else None
    if raw is None and prompts:
        # The same features `arena leaderboard --battles FILE --style-control` computes.
        raw = raw_from_conversations(obj.get("conversation_a"), obj.get("conversation_b"))
    tags = conversation_tags(prompts, answers_a, answers_b) if prompts else []
    for extra in (obj.get("category"), obj.get("language")):
        for tag in extra if isinstance(extra, list) else [extra]:
            if isinstance(tag, str) and tag and tag.lower() not in tags:
                tags.append(tag.lower())
    excluded = bool(obj.get("excluded"))
    counted = obj.get("counted")
    reason = obj.get("exclude_reason")
    rows.votes.append(
        {
            "battle_id": battle_id,
            "winner": obj["winner"],
            "voter_id": judge,
            "client_ip": None,
            "model_a_id": a,
            "model_b_id": b,
            "anony": anony,
            "leaked": bool(obj.get("leaked")),
            "excluded": excluded,
            "exclude_reason": str(reason)[:500] if excluded and reason is not None else None,
            "counted": bool(counted) if isinstance(counted, bool) else not excluded,
            "categories": tags,
            "category_bits": bits_of(tags),
            "modality": modality,
            **style_fields([*raw[0], *raw[1]] if raw is not None else None),
            "prompt_hash": prompt_hash(prompts[0]) if prompts else None,
            "created_at": when,
        }
    )
