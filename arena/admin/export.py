"""Voted battles as LMSYS/LMArena "clean battle" records (JSON Lines), excluded votes marked.

`battle_records` is shared by `GET /api/admin/battles.jsonl` and `arena battles export`. Votes
are read a batch at a time as plain column tuples (no ORM objects), with the turns, answers and
image hashes of the batch's battles in one query each, selected by the batch's vote-id range (no
list of ids to bind); each batch is encoded by msgspec into one block of lines and written at
once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TextIO

import msgspec
from sqlalchemy import Connection, Engine, Text, and_, cast
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from arena.admin.battle_images import image_uris, shas_by_turn
from arena.admin.export_records import ExportRecord, StyleMetadata, categories_of, style_metadata
from arena.admin.review import endpoint_names
from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Answer, Battle, Turn, TurnImage, Vote
from ratings import conv_metadata

#: Votes per batch: one query for them, one each for their turns, answers and images.
BATCH = 10_000
#: A turn as the export reads it: (prompt, side a's answer, side b's answer).
TurnTriple = tuple[str, str, str]
#: `tstamp` is the seconds since this naive UTC instant (= `.replace(tzinfo=UTC).timestamp()`).
_EPOCH = datetime(1970, 1, 1)
#: A boolean column's value as the driver gives it (0 or 1 on SQLite, a bool elsewhere) -> bool.
_BOOL = (False, True)


def _conversation(turns: list[TurnTriple], side_a: bool) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for prompt, a, b in turns:
        messages.append({"role": "user", "content": prompt})
        messages.append({"role": "assistant", "content": a if side_a else b})
    return messages


class _Names(dict[int, str]):
    """Endpoint names by id; an unknown id reads as its number."""

    def __missing__(self, key: int) -> str:
        return str(key)


def battle_records(
    session: Session,
    *,
    hash_id: Callable[[str], str],
    include_excluded: bool = True,
    batch: int = BATCH,
    with_images: bool = False,
) -> Iterator[dict[str, Any]]:
    """One record per voted battle, oldest vote first, as plain JSON values (what a reader of
    the export gets); read in batches, so any size streams."""
    encoder = msgspec.json.Encoder()
    for block in record_blocks(
        session,
        hash_id=hash_id,
        include_excluded=include_excluded,
        batch=batch,
        with_images=with_images,
    ):
        for record in block:
            yield msgspec.json.decode(encoder.encode(record))


def record_blocks(
    session: Session,
    *,
    hash_id: Callable[[str], str],
    include_excluded: bool = True,
    batch: int = BATCH,
    with_images: bool = False,
) -> Iterator[list[ExportRecord]]:
    """The records a batch (a list) at a time, as structs msgspec encodes in the keys' order."""
    names = _Names(endpoint_names(session))
    conn = session.connection()
    pseudonyms: dict[str, str] = {}
    categories: dict[str, tuple[str, ...]] = {}
    columns = [col(getattr(Vote, c)) for c in _VOTE_COLUMNS]
    last_id = 0
    while True:
        stmt = (
            sa_select(*columns, cast(col(Vote.categories), Text), col(Battle.external_id))
            .join(Battle, col(Battle.id) == col(Vote.battle_id), isouter=True)
            .where(col(Vote.id) > last_id)
        )
        if not include_excluded:
            stmt = stmt.where(col(Vote.excluded) == False)  # noqa: E712
        votes = _fetch(conn, stmt.order_by(col(Vote.id)).limit(batch))
        if not votes:
            return
        first_id, last_id = last_id, votes[-1][0]
        turns = _turns(conn, first_id, last_id)
        images = _image_shas(conn, first_id, last_id)
        block: list[ExportRecord] = []
        for (
            _,
            battle_id,
            model_a_id,
            model_b_id,
            winner,
            voter_id,
            anony,
            created_at,
            excluded,
            exclude_reason,
            leaked,
            counted,
            modality,
            *style,
            cats,
            external_id,
        ) in votes:
            if external_id:
                # An imported record's voter id already is the file's `judge`: it travels
                # unchanged and keeps one identity. A native voter id is hashed once.
                judge = voter_id
            elif (judge := pseudonyms.get(voter_id)) is None:
                judge = pseudonyms[voter_id] = hash_id(voter_id)
            if (category := categories.get(cats)) is None:
                category = categories[cats] = categories_of(cats)
            if created_at.__class__ is str:  # SQLite's text, parsed as SQLAlchemy parses it
                created_at = datetime.fromisoformat(created_at)
            conv = turns.get(battle_id)
            record = ExportRecord(
                external_id or battle_id,
                names[model_a_id],
                names[model_b_id],
                winner,
                judge,
                len(conv) if conv else 0,
                _BOOL[anony],
                (created_at - _EPOCH).total_seconds(),
                _BOOL[excluded],
                exclude_reason,
                _BOOL[leaked],
                _BOOL[counted],
                category,
                _conversation(conv, True) if conv else (),
                _conversation(conv, False) if conv else (),
                _metadata(conv, style) if conv else style_metadata(style),
                modality,
            )
            if battle_id in images:
                record.images = shas = images[battle_id]
                if with_images:
                    record.image_data = image_uris(session, (s for t in shas for s in t))
            block.append(record)
        yield block


#: What an exported record reads of a vote, in this order (then the categories as JSON text and
#: the battle's external id): plain columns, no ORM objects (a million of them cost more than
#: the query).
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
    "modality",
    *STYLE_COLUMNS,
)


def _fetch(conn: Connection, stmt: Any) -> list[Any]:
    """The rows of a statement (whose only parameters are numbers) as the driver's own tuples:
    SQLAlchemy's rows and result processing cost as much as the query. Booleans and (on SQLite)
    times come back raw: see `_BOOL` and `datetime.fromisoformat`."""
    sql = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    result = conn.exec_driver_sql(str(sql))
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _in_range(first_id: int, last_id: int) -> Any:
    """The battle ids of the votes with first_id < id <= last_id (a subquery)."""
    return sa_select(col(Vote.battle_id)).where(
        and_(col(Vote.id) > first_id, col(Vote.id) <= last_id)
    )


def _turns(conn: Connection, first_id: int, last_id: int) -> dict[str, list[TurnTriple]]:
    """The turns of the votes' battles in order, each with both answers ("" for a missing one),
    as `review.load_turns` gives them."""
    battles = _in_range(first_id, last_id)
    turns = conn.execute(
        sa_select(col(Turn.battle_id), col(Turn.id), col(Turn.prompt))
        .where(col(Turn.battle_id).in_(battles))
        .order_by(col(Turn.battle_id), col(Turn.index))
    ).all()
    if not turns:
        return {}
    answers = conn.execute(
        sa_select(col(Answer.turn_id), col(Answer.side), col(Answer.content))
        .join(Turn, col(Turn.id) == col(Answer.turn_id))
        .where(col(Turn.battle_id).in_(battles))
    ).all()
    by_key: dict[tuple[Any, str], str] = {(t, side): text for t, side, text in answers}
    out: dict[str, list[TurnTriple]] = {}
    for battle_id, turn_id, prompt in turns:
        a, b = by_key.get((turn_id, "a"), ""), by_key.get((turn_id, "b"), "")
        out.setdefault(battle_id, []).append((prompt, a, b))
    return out


def _image_shas(conn: Connection, first_id: int, last_id: int) -> dict[str, list[list[str]]]:
    """Each battle's images by turn, as sha256 lists (battles without images are absent), as
    `battle_images.battle_image_shas` gives them."""
    rows = conn.execute(
        sa_select(col(Turn.battle_id), col(Turn.index), col(TurnImage.sha256))
        .join(TurnImage, col(TurnImage.turn_id) == col(Turn.id))
        .where(col(Turn.battle_id).in_(_in_range(first_id, last_id)))
        .order_by(col(Turn.battle_id), col(Turn.index), col(TurnImage.position))
    ).all()
    return shas_by_turn(rows)


def _metadata(turns: list[TurnTriple], style: Any) -> dict[str, Any] | StyleMetadata | None:
    if turns:
        return conv_metadata([t[1] for t in turns], [t[2] for t in turns])
    return style_metadata(style)


def export_lines(engine: Engine, hash_id: Any, include_excluded: bool) -> Iterator[bytes]:
    """The export as blocks of JSON lines, read from the database as it is sent."""
    encode = msgspec.json.Encoder().encode_lines
    with Session(engine) as session:
        for block in record_blocks(session, hash_id=hash_id, include_excluded=include_excluded):
            yield encode(block)


def export_battles(engine: Engine, out: TextIO, *, secret: str, images: bool = False) -> int:
    """Write every voted battle as a JSON line (voter ids hashed); returns how many. With
    `images`, vision battles carry their images as data: URIs."""
    from arena.core.signing import voter_pseudonyms

    hash_id = voter_pseudonyms(secret).hash_id
    encode = msgspec.json.Encoder().encode_lines
    n = 0
    with Session(engine) as session:
        for block in record_blocks(session, hash_id=hash_id, with_images=images):
            out.write(encode(block).decode())
            n += len(block)
    return n
