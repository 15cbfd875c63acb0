"""Images in the database: stored once per content (sha256), linked to turns in order.

Every worker reads the same rows, so a follow-up, a replay, the voter's page and the admin's
review find a battle's images wherever they were uploaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Exists, delete, func, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from arena.images.clean import CleanImage
from arena.store.engine import session_scope
from arena.store.tables import Battle, Image, Turn, TurnImage, utcnow

ImageRef = tuple[str, str]  # (sha256, mime)
log = logging.getLogger("arena.store.images")


def save_images(session: Session, links: Sequence[tuple[int, Sequence[CleanImage]]]) -> None:
    """Store the images of these turns (an image already stored is kept once) and link them."""
    images = {img.sha256: img for _, imgs in links for img in imgs}
    if not images:
        return
    conn = session.connection()
    insert_image = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    now = utcnow()
    conn.execute(
        insert_image(Image).on_conflict_do_nothing(index_elements=[col(Image.sha256)]),
        [
            {
                "sha256": img.sha256,
                "mime": img.mime,
                "width": img.width,
                "height": img.height,
                "size": len(img.data),
                "data": img.data,
                "created_at": now,
            }
            for img in images.values()
        ],
    )
    conn.execute(
        insert(TurnImage),
        [
            {
                "turn_id": turn_id,
                "position": pos,
                "sha256": img.sha256,
                "upload_bytes": img.upload_bytes,
                "created_at": now,
            }
            for turn_id, imgs in links
            for pos, img in enumerate(imgs)
        ],
    )


def with_images(battle_id: Any) -> Exists:
    """SQL: whether a turn of the battle whose id is `battle_id` (a column) carried images, by its
    links, so a battle whose images retention deleted still counts as one with images."""
    return (
        select(TurnImage.turn_id)
        .join(Turn, col(Turn.id) == col(TurnImage.turn_id))
        .where(col(Turn.battle_id) == battle_id)
        .exists()
    )


def turn_image_refs(session: Session, turn_ids: Iterable[int]) -> dict[int, list[ImageRef]]:
    """Each turn's images in order, as (sha256, mime); an image deleted by retention is left
    out. Turns without images are absent."""
    ids = list(turn_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(TurnImage.turn_id, TurnImage.sha256, Image.mime)
        .join(Image, col(Image.sha256) == col(TurnImage.sha256), isouter=True)
        .where(col(TurnImage.turn_id).in_(ids))
        .order_by(col(TurnImage.turn_id), col(TurnImage.position))
    ).all()
    out: dict[int, list[ImageRef]] = {}
    for turn_id, sha, mime in rows:
        out.setdefault(turn_id, []).append((sha, mime or ""))
    return out


def turn_image_counts(session: Session, turn_ids: Iterable[int]) -> dict[int, int]:
    """How many images each turn carried (by its links, whether or not still stored)."""
    ids = list(turn_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(TurnImage.turn_id, func.count())
        .where(col(TurnImage.turn_id).in_(ids))
        .group_by(col(TurnImage.turn_id))
    ).all()
    return {int(t): int(n) for t, n in rows}


def image_data(session: Session, shas: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    """The stored images by sha256: (mime, bytes)."""
    wanted = list(set(shas))
    if not wanted:
        return {}
    rows = session.exec(
        select(Image.sha256, Image.mime, Image.data).where(col(Image.sha256).in_(wanted))
    ).all()
    return {sha: (mime, bytes(data)) for sha, mime, data in rows}


def battle_image(
    session: Session, battle_id: str, turn_index: int, position: int
) -> tuple[str, bytes] | None:
    """One image of a battle, by its turn's index and its place in that turn; None if absent."""
    row = session.exec(
        select(Image.mime, Image.data)
        .join(TurnImage, col(TurnImage.sha256) == col(Image.sha256))
        .join(Turn, col(Turn.id) == col(TurnImage.turn_id))
        .where(
            col(Turn.battle_id) == battle_id,
            col(Turn.index) == turn_index,
            col(TurnImage.position) == position,
        )
    ).first()
    return (row[0], bytes(row[1])) if row else None


def uploaded_bytes(
    session: Session, *, voter_id: str | None, client_ip: str | None, since: datetime
) -> tuple[int, int]:
    """Image bytes uploaded since `since` by this voter and from this IP."""

    def total(column: Any, value: str | None) -> int:
        if not value:
            return 0
        n = session.exec(
            select(func.coalesce(func.sum(TurnImage.upload_bytes), 0))
            .join(Turn, col(Turn.id) == col(TurnImage.turn_id))
            .join(Battle, col(Battle.id) == col(Turn.battle_id))
            .where(column == value, col(TurnImage.created_at) >= since)
        ).one()
        return int(n or 0)

    return total(col(Battle.voter_id), voter_id), total(col(Battle.client_ip), client_ip)


def purge_images(engine: Engine, *, older_than: timedelta) -> int:
    """Delete images that no turn newer than `older_than` uses; returns how many. The links
    stay, so a battle still knows which images (by hash) it had."""
    cutoff = utcnow() - older_than
    with session_scope(engine) as session:
        recent = select(TurnImage.sha256).where(col(TurnImage.created_at) >= cutoff)
        result = session.execute(
            delete(Image).where(col(Image.created_at) < cutoff, col(Image.sha256).not_in(recent))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def purge_periodically(engine: Engine, *, older_than: timedelta, every: float) -> None:
    """Apply the image retention now and then every `every` seconds, forever (each worker runs
    it; a delete that finds nothing costs one indexed query)."""
    while True:
        try:
            removed = await asyncio.to_thread(purge_images, engine, older_than=older_than)
            if removed:
                log.info("image retention deleted %d images", removed)
        except Exception:
            log.exception("image retention failed; the next round tries again")
        await asyncio.sleep(every)
