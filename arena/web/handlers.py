"""How the JSON API answers what went wrong: `{"detail": …}` with a 4xx, or a 503 when the
database is away."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from arena.core.errors import BattleError
from arena.votes.limits import RateLimited
from arena.web import requestid

log = logging.getLogger("arena")


async def battle_error(request: Request, exc: Exception) -> JSONResponse:
    """A refused request: its status and message (and when to retry after a rate limit)."""
    assert isinstance(exc, BattleError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database did not answer: nothing was half-done, since each action is one
    transaction (a battle whose rows could not be stored has its models stopped)."""
    assert isinstance(exc, DBAPIError)
    # Only the first line: the driver's DETAIL lines may quote the values (a prompt) involved.
    first = str(exc.orig).split("\n", 1)[0][:300]
    log.error("database error on %s %s: %s", request.method, request.url.path, first)
    return JSONResponse(
        {"detail": "The arena's database is not available right now; please try again."},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A body or query that does not parse: FastAPI's list of errors, without the input."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback, answered with the request id to quote."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    request_id = requestid.current() or ""
    return JSONResponse(
        {
            "detail": "Internal error; quote this request id when reporting it.",
            "request_id": request_id,
        },
        status_code=500,
        headers={requestid.HEADER: request_id},
    )


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(BattleError, battle_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
