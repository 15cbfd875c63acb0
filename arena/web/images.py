"""Serving a battle's stored images: to its voter (pages) and to admins (vote review)."""

from __future__ import annotations

import asyncio

from fastapi.responses import Response
from sqlalchemy import Engine

from arena.battles import views
from arena.core.errors import BattleError

# Only this voter's browser may keep it; it never changes (stored once per content).
VOTER_HEADERS = {"Cache-Control": "private, max-age=86400", "Vary": "Cookie"}
ADMIN_HEADERS = {"Cache-Control": "private, max-age=3600"}


async def image_response(
    engine: Engine,
    *,
    battle_id: str,
    voter_id: str | None,
    turn: int,
    position: int,
    headers: dict[str, str],
) -> Response:
    """The image, or the refusal as plain text (403 for another voter's battle, 404, …);
    `voter_id` None: an admin, who may see any battle's images."""
    try:
        mime, data = await asyncio.to_thread(
            views.voter_image,
            engine,
            battle_id=battle_id,
            voter_id=voter_id,
            turn=turn,
            position=position,
        )
    except BattleError as exc:
        return Response(exc.detail, status_code=exc.status, media_type="text/plain")
    return Response(data, media_type=mime, headers=headers)
