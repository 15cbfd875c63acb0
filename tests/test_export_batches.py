"""The export read a batch at a time (plain columns, turns and images by vote-id range, records
as msgspec structs) writes what the record-by-record ORM reading wrote: the same keys in the
same order, the same values, whatever the batch size; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from arena.admin.battle_images import battle_image_shas
from arena.admin.export import battle_records, export_battles, export_lines
from arena.admin.export_records import categories_of, style_metadata
from arena.admin.review import endpoint_names, load_turns
from arena.core.signing import voter_pseudonyms
from arena.store.style_columns import stored_style
from arena.store.tables import Vote
from arena.web.state import arena_state
from ratings import conv_metadata
from tests.fake_openai import FakeOpenAI
from tests.image_samples import data_uri, png_bytes
from tests.test_vision_api import vision_client  # noqa: F401
from tests.test_vision_board import play

SECRET = "s" * 32


def _old_metadata(turns: list[Any], style: list[float]) -> dict[str, Any] | None:
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


def _reference(engine: Any, include_excluded: bool = True) -> bytes:
    """The export as the ORM reading, one vote at a time, wrote it."""
    hash_id = voter_pseudonyms(SECRET).hash_id
    encode = msgspec.json.Encoder().encode
    lines = []
    with Session(engine) as session:
        names = endpoint_names(session)
        votes = session.exec(select(Vote).order_by(Vote.id)).all()  # type: ignore[arg-type]
        votes = [v for v in votes if include_excluded or not v.excluded]
        turns = load_turns(session, (v.battle_id for v in votes))
        images = battle_image_shas(session, (v.battle_id for v in votes))
        for v in votes:
            conv = turns.get(v.battle_id, [])
            record: dict[str, Any] = {
                "question_id": v.battle_id,
                "model_a": names.get(v.model_a_id, str(v.model_a_id)),
                "model_b": names.get(v.model_b_id, str(v.model_b_id)),
                "winner": v.winner,
                "judge": hash_id(v.voter_id),
                "turn": len(conv),
                "anony": v.anony,
                "tstamp": v.created_at.replace(tzinfo=UTC).timestamp(),
                "excluded": v.excluded,
                "exclude_reason": v.exclude_reason,
                "leaked": v.leaked,
                "counted": v.counted,
                "category": list(v.categories),
                "conversation_a": [
                    m
                    for t in conv
                    for m in (
                        {"role": "user", "content": t.prompt},
                        {"role": "assistant", "content": t.a.content},
                    )
                ],
                "conversation_b": [
                    m
                    for t in conv
                    for m in (
                        {"role": "user", "content": t.prompt},
                        {"role": "assistant", "content": t.b.content},
                    )
                ],
                "conv_metadata": _old_metadata(conv, stored_style(v)),
                "modality": v.modality,
            }
            if v.battle_id in images:
                record["images"] = images[v.battle_id]
            lines.append(encode(record) + b"\n")
    return b"".join(lines)


@pytest.mark.parametrize("batch", [1, 2, 10_000])
def test_same_lines_as_the_orm_reading(
    vision_client: httpx.Client,  # noqa: F811
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    batch: int,
) -> None:
    monkeypatch.setattr("arena.admin.export.BATCH", batch)
    png = data_uri(png_bytes())
    for images in ([png], [], [png, png], []):
        play(vision_client, images)
    engine = arena_state(vision_client.app).engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            update(Vote).where(Vote.id == 2).values(excluded=True, exclude_reason="spam")  # type: ignore[arg-type]
        )
        conn.execute(update(Vote).where(Vote.id == 3).values(categories=["english", "code"]))  # type: ignore[arg-type]
    out = io.StringIO()
    assert export_battles(engine, out, secret=SECRET) == 4
    assert out.getvalue().encode() == _reference(engine)
    hash_id = voter_pseudonyms(SECRET).hash_id
    assert b"".join(export_lines(engine, hash_id, False)) == _reference(engine, False)
    with Session(engine) as session:
        records = list(battle_records(session, hash_id=hash_id, batch=batch))
    assert records == [json.loads(line) for line in out.getvalue().splitlines()]


def test_style_metadata_is_the_dict_it_replaces() -> None:
    style = [12.0, 3.0, 0.0, 7.0, 1.0, 0.0, 2.0, 5.0]
    assert msgspec.json.encode(style_metadata(style)) == msgspec.json.encode(
        _old_metadata([], style)
    )
    assert style_metadata([1.0] * 7 + [None]) is None


def test_categories_of_stored_text() -> None:
    assert categories_of('["english", "code"]') == ("english", "code")
    assert categories_of(["x"]) == ("x",)
    assert categories_of('["\\ud800"]') == tuple(json.loads('["\\ud800"]'))
