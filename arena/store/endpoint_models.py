"""The endpoint model family beside the table: what comes in (create, update) and what goes out.

`EndpointCreate` and `EndpointUpdate` validate every request (file, UI, CLI, API) before anything
is written; `EndpointPublic` is the one shape the admin API answers with, and it has no field
that could hold an API key, only where the key comes from.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, field_validator
from sqlmodel import Field, SQLModel

from arena.store.tables import EndpointBase

# Request bodies refuse unknown fields (a typo must not be silently dropped) and trim text.
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def check_base_url(value: str) -> str:
    """An http(s) URL with a host, without its trailing slash; ValueError otherwise."""
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value.strip():
        raise ValueError("base_url must be an http(s) URL such as https://host/v1")
    return value.strip().rstrip("/")


class EndpointCreate(SQLModel):
    """A model endpoint as the file, the UI, the CLI and the API all describe it."""

    model_config = _STRICT  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=100, schema_extra={"pattern": r"^[^\x00-\x1f/]+$"})
    base_url: str = Field(min_length=1, max_length=500)
    model: str = Field(min_length=1, max_length=200)
    api_key_env: str | None = Field(
        default=None, max_length=100, schema_extra={"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}
    )
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    system_prompt: str | None = Field(default=None, max_length=20_000)
    extra_body: dict[str, Any] = Field(default_factory=dict)
    weight: float = Field(default=1.0, ge=0)
    enabled: bool = True
    organization: str | None = Field(default=None, max_length=200)
    license: str | None = Field(default=None, max_length=200)
    aliases: list[str] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        return check_base_url(value)

    @field_validator("weight")
    @classmethod
    def _finite_weight(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("weight must be a finite number >= 0")
        return value


class EndpointUpdate(SQLModel):
    """A partial update of an endpoint (admin API PATCH); the merged result is checked whole."""

    model_config = _STRICT  # type: ignore[assignment]

    base_url: str | None = None
    model: str | None = Field(default=None, min_length=1, max_length=200)
    api_key_env: str | None = Field(default=None, max_length=100)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    system_prompt: str | None = Field(default=None, max_length=20_000)
    extra_body: dict[str, Any] | None = None
    weight: float | None = Field(default=None, ge=0)
    enabled: bool | None = None
    retired: bool | None = None
    organization: str | None = Field(default=None, max_length=200)
    license: str | None = Field(default=None, max_length=200)
    aliases: list[str] | None = None

    @field_validator("base_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return None if value is None else check_base_url(value)


class EndpointCreateRequest(EndpointCreate):
    """`POST /api/admin/models`: the endpoint fields plus what the API fills in or stores.

    The preset is applied before the fields are checked, so `base_url` may come from it.
    """

    # Documents the API body; `arena.admin.crud.parse_new` validates it (preset first).

    preset: str | None = Field(default=None, description="fills base_url, api_key_env, hints")
    thinking: bool | None = Field(default=None, description="thinking on/off, for a preset")
    api_key: str | None = Field(default=None, description="stored encrypted; never shown again")


class EndpointUpdateRequest(EndpointUpdate):
    """`PATCH /api/admin/models/{name}`: the fields to change, and `api_key` (null clears it).

    The result, merged with the endpoint, is checked whole; the name cannot change.
    """

    # Documents the API body; `arena.admin.crud.parse_edit` validates it.

    api_key: str | None = Field(default=None, description='a new key; null or "" clears it')


class KeyStatus(BaseModel):
    """Where an endpoint's key comes from, masked: never the key itself."""

    env: str | None
    env_set: bool | None
    stored: str | None
    in_use: str


class BreakerStatus(BaseModel):
    """The circuit breaker: failures in a row, the pause, the upstream's last words (scrubbed)."""

    consecutive_failures: int
    paused_until: str | None
    paused: bool
    last_error: str | None


class VoteCounts(BaseModel):
    """All votes a model was in, those that count, and those an admin excluded."""

    votes: int
    counted: int
    excluded: int


class EndpointPublic(EndpointBase):
    """An endpoint as the admin API shows it: fields, state, key status, breaker, vote counts."""

    id: int | None
    state: str
    retired: bool
    source: str
    api_key: KeyStatus
    breaker: BreakerStatus
    created_at: str
    updated_at: str
    votes: VoteCounts | None = None


class Removal(BaseModel):
    """What `DELETE /api/admin/models/{name}` did: deleted, or retired to keep its history."""

    name: str
    result: str
    detail: str
