"""The images a voter attaches to a prompt: checked and normalised off the event loop, and
counted against the hourly upload limits before anything is drawn or stored."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine

from arena.core.errors import BattleError
from arena.core.rules import ImageRules
from arena.images.clean import CleanImage, clean_data_uris
from arena.store.engine import session_scope
from arena.store.images import uploaded_bytes
from arena.store.tables import utcnow

HOUR = timedelta(hours=1)


async def checked_images(uris: Sequence[str], rules: ImageRules) -> tuple[CleanImage, ...]:
    """The turn's images, checked and re-encoded without metadata (4xx when one is bad)."""
    if not uris:
        return ()
    return tuple(await asyncio.to_thread(clean_data_uris, list(uris), rules))


def check_upload_budget(
    engine: Engine,
    *,
    voter_id: str,
    client_ip: str | None,
    images: Sequence[CleanImage],
    rules: ImageRules,
) -> None:
    """429 when these images would take the voter or the IP past the hourly upload limit."""
    if not images:
        return
    new = sum(img.upload_bytes for img in images)
    with session_scope(engine) as session:
        by_voter, by_ip = uploaded_bytes(
            session, voter_id=voter_id, client_ip=client_ip, since=utcnow() - HOUR
        )
    for used, limit, who in (
        (by_voter, rules.upload_bytes_per_voter_per_hour, "you"),
        (by_ip, rules.upload_bytes_per_ip_per_hour, "your network"),
    ):
        if limit and used + new > limit:
            raise BattleError(
                429,
                f"Image uploads are limited to {limit / 2**20:.0f} MiB an hour and {who} "
                "reached it; try again later or send the prompt without images.",
            )
