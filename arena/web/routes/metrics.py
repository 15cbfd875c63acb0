"""`GET /metrics` for Prometheus: with the admin token (`Authorization: Bearer`), because
per-model latencies could help a voter guess which model is which. With `metrics_address` set,
it is served there instead, and not here."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from arena.web.admin_deps import require_api_admin
from arena.web.deps import StateDep
from arena.web.metrics import exposition

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request, state: StateDep) -> Response:
    """The Prometheus text format."""
    if state.settings.metrics_address:
        raise HTTPException(404, "Metrics are served on the metrics_address.")
    await require_api_admin(request, state)
    body = await asyncio.to_thread(exposition, state.engine)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
