"""Voted battles as LMSYS/LMArena "clean battle" records (JSON Lines), excluded votes marked.

`battle_records` is shared by `GET /api/admin/battles.jsonl` and `arena battles export`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

import msgspec
from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from arena.admin.battle_images import battle_image_shas, image_uris
from arena.admin.review import TurnText, endpoint_names, load_turns
from arena.store.style_columns import STYLE_COLUMNS, stored_style
from arena.store.tables import Battle, Vote
from ratings import conv_metadata


def conversation(turns: list[TurnText], side: str) -> list[dict[str, str]]:
    """One side's conversation as an OpenAI-style message list."""
    messages: list[dict[str, str]] = []
    for t in turns:
        answer = t.a if side == "a" else t.b
        messages.append({"role": "user", "content": t.prompt})
        messages.append({"role": "assistant", "content": answer.content})
    return messages


def battle_records(
    session: Session,
    *,
    hash_id: Callable[[str], str],
    include_excluded: bool = True,
    batch: int = 2000,
    with_images: bool = False,
) -> Iterator[dict[str, Any]]:
    """One record per voted battle, oldest vote first; read in batches, so any size streams."""
    names = endpoint_names(session)
    last_id = 0
    columns = [getattr(Vote, c) for c in _VOTE_COLUMNS]
    while True:
        stmt = (
            sa_select(*columns, col(Battle.external_id))
            .join(Battle, col(Battle.id) == col(Vote.battle_id), isouter=True)
            .where(col(Vote.id) > last_id)
        )
        if not include_excluded:
            stmt = stmt.where(col(Vote.excluded) == False)  # noqa: E712
        votes = session.execute(stmt.order_by(col(Vote.id)).limit(batch)).all()
        if not votes:
            return
        last_id = votes[-1].id or last_id
        turns = load_turns(session, (v.battle_id for v in votes))
        images = battle_image_shas(session, (v.battle_id for v in votes))
        for v in votes:
            conv = turns.get(v.battle_id, [])
            record = {
                "question_id": v.external_id or v.battle_id,
                "model_a": names.get(v.model_a_id, str(v.model_a_id)),
                "model_b": names.get(v.model_b_id, str(v.model_b_id)),
                "winner": v.winner,
                # A native voter id is hashed once; an imported record's voter id already is
                # the file's `judge`, so it travels unchanged and keeps one identity.
                "judge": v.voter_id if v.external_id else hash_id(v.voter_id),
                "turn": len(conv),
                "anony": v.anony,
                "tstamp": v.created_at.replace(tzinfo=UTC).timestamp(),
                "excluded": v.excluded,
                "exclude_reason": v.exclude_reason,
                "leaked": v.leaked,
                "counted": v.counted,
                "category": list(v.categories),
                "conversation_a": conversation(conv, "a"),
                "conversation_b": conversation(conv, "b"),
                "conv_metadata": metadata(conv, stored_style(v)),
                "modality": v.modality,
            }
            if v.battle_id in images:
                shas = images[v.battle_id]
                record["images"] = shas
                if with_images:
                    record["image_data"] = image_uris(session, (s for t in shas for s in t))
            yield record


#: What an exported record reads of a vote: plain columns, no ORM objects (a million of them
#: cost more than the query).
_VOTE_COLUMNS = (
    "id",
    "battle_id",
    "model_a_id",
    "model_b_id",
    "winner",
    "voter_id",
    "anony",
    "created_at",
    "excluded",
    "exclude_reason",
    "leaked",
    "counted",
    "categories",
    "modality",
    *STYLE_COLUMNS,
)


def metadata(turns: list[TurnText], style: list[float]) -> dict[str, Any] | None:
    """`conv_metadata` from the stored answers; from the vote's style features when the
    conversation is not stored (a battle imported without one)."""
    if turns:
        return conv_metadata([t.a.content for t in turns], [t.b.content for t in turns])
    if len(style) != 8:
        return None
    out: dict[str, Any] = {}
    for side, (tokens, headers, lists, bold) in (("a", style[:4]), ("b", style[4:])):
        out[f"sum_assistant_{side}_tokens"] = int(tokens)
        out[f"header_count_{side}"] = {"h1": int(headers), **{f"h{i}": 0 for i in range(2, 7)}}
        out[f"list_count_{side}"] = {"ordered": 0, "unordered": int(lists)}
        out[f"bold_count_{side}"] = {"**": int(bold), "__": 0}
    return out


def export_lines(engine: Engine, hash_id: Any, include_excluded: bool) -> Iterator[bytes]:
    """The export, one JSON object a line, read from the database as it is sent."""
    encode = msgspec.json.Encoder().encode
    with Session(engine) as session:
        for record in battle_records(session, hash_id=hash_id, include_excluded=include_excluded):
            yield encode(record) + b"\n"
