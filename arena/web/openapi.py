"""What the API's schema says it answers besides success: every error an operation can give, in
the shape it gives it, and the non-JSON bodies (CSV, Markdown, NDJSON) with their media types.

Routes declare `responses=errors(404, 409, …)`; schemathesis in the tests holds them to it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """A refused request, explained in one sentence."""

    detail: str = Field(description="What went wrong and, where it helps, what to do instead.")


class FieldError(BaseModel):
    """One part of a request that does not fit (FastAPI's validation error, without the input)."""

    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field.")
    msg: str
    type: str


class InvalidOut(BaseModel):
    """A request that does not fit: a sentence from the arena's own checks, or the list of
    fields that failed to parse."""

    detail: str | list[FieldError]


class ComputingOut(BaseModel):
    """A leaderboard that is being computed for the first time (HTTP 202, with Retry-After)."""

    detail: str
    computing: bool = True


class HealthOut(BaseModel):
    """Liveness and database reachability."""

    status: str = Field(description="ok | degraded")
    database: bool


WHY = {
    400: "The body could not be read (not UTF-8, or not the JSON the media type says)",
    401: "Missing or wrong bearer token",
    403: "Not allowed: another voter's battle, or the admin is off (no ARENA_ADMIN_TOKEN)",
    404: "No such battle or model",
    409: "The state does not allow it (voted, failed, unfinished, a name taken, too few models)",
    413: "The request body is larger than max_request_bytes",
    415: "The body is not sent as application/json",
    422: "The request does not fit: a sentence, or the list of fields that failed to parse",
    424: "The moderation service is unavailable",
    429: "Too many requests; Retry-After says when to try again",
    503: "The database is not available right now; Retry-After says when to try again",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries for these error statuses, each with its body model."""
    return {
        code: {"model": InvalidOut if code == 422 else ErrorOut, "description": WHY[code]}
        for code in codes
    }


# Every request may be too large or meet a database that is away.
COMMON = (413, 503)
# A request with a JSON body: unreadable bytes, the wrong media type, fields that do not fit.
BODY = (400, 413, 415, 422)


def ok_body(description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    """A 200 that may come in several media types: JSON objects, or text (a download, an export)."""
    content = {
        media: {"schema": {"type": "object"} if media == "application/json" else {"type": "string"}}
        for media in media_types
    }
    return {200: {"content": content, "description": description}}
