"""The database tables (SQLModel). Model ids are small integers so ratings can use them as-is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time in UTC, timezone-naive (stored as UTC on every backend)."""
    return datetime.now(UTC).replace(tzinfo=None)


class EndpointBase(SQLModel):
    """The fields of an endpoint that the models file, admin UI, CLI and API share."""

    name: str = Field(index=True, unique=True, max_length=100)
    base_url: str = Field(max_length=500)
    model: str = Field(max_length=200)
    api_key_env: str | None = Field(default=None, max_length=100)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    system_prompt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    extra_body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    weight: float = 1.0
    enabled: bool = True
    organization: str | None = Field(default=None, max_length=200)
    license: str | None = Field(default=None, max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Endpoint(EndpointBase, table=True):
    """A model endpoint that battles draw from."""

    id: int | None = Field(default=None, primary_key=True)
    retired: bool = False
    # A key typed into the admin UI, encrypted with ARENA_SECRET_KEY; never returned by any route.
    api_key_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # "file" when seeded from models.toml, "ui"/"cli"/"api" when created there.
    source: str = Field(default="file", max_length=20)
    consecutive_failures: int = 0
    paused_until: NaiveDatetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Battle(SQLModel, table=True):
    """One blind comparison between two endpoints, owned by one voter."""

    id: str = Field(primary_key=True, max_length=32)
    voter_id: str = Field(index=True, max_length=64)
    client_ip: str | None = Field(default=None, max_length=64, index=True)
    model_a_id: int = Field(foreign_key="endpoint.id", index=True)
    model_b_id: int = Field(foreign_key="endpoint.id", index=True)
    # pending (turn not started) | streaming | ready | voted | failed
    status: str = Field(default="pending", max_length=16, index=True)
    anony: bool = True
    # The `question_id` of a battle imported from a file (duplicates are skipped on import).
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Turn(SQLModel, table=True):
    """One prompt of a battle; both sides answer it."""

    __table_args__ = (UniqueConstraint("battle_id", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    battle_id: str = Field(foreign_key="battle.id", index=True, max_length=32)
    index: int = 0
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    # pending (nobody generates yet) | streaming | done | failed
    status: str = Field(default="pending", max_length=16)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    claimed_at: NaiveDatetime | None = None
    # The generating worker touches this while it works; a stale one means that worker died.
    heartbeat_at: NaiveDatetime | None = None
    # Set by a stop request on any worker; the generating worker sees it and stops.
    cancel_requested: bool = False


class Answer(SQLModel, table=True):
    """One side's answer to one turn, with what the upstream reported about it."""

    __table_args__ = (UniqueConstraint("turn_id", "side"),)

    id: int | None = Field(default=None, primary_key=True)
    turn_id: int = Field(foreign_key="turn.id", index=True)
    side: str = Field(max_length=1)  # "a" | "b"
    endpoint_id: int = Field(foreign_key="endpoint.id")
    # pending | streaming | done | failed
    status: str = Field(default="pending", max_length=16)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    reasoning: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    finish_reason: str | None = Field(default=None, max_length=40)
    # The voter sees `error` (neutral words); the admin sees `error_detail` (the upstream's own).
    error: str | None = Field(default=None, max_length=500)
    error_detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    ttft_ms: float | None = None
    total_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 1
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Vote(SQLModel, table=True):
    """The voter's verdict on a battle; at most one per battle."""

    id: int | None = Field(default=None, primary_key=True)
    battle_id: str = Field(foreign_key="battle.id", unique=True, max_length=32)
    winner: str = Field(max_length=16)  # model_a | model_b | tie | tie (bothbad)
    voter_id: str = Field(index=True, max_length=64)
    client_ip: str | None = Field(default=None, max_length=64, index=True)
    model_a_id: int = Field(foreign_key="endpoint.id")
    model_b_id: int = Field(foreign_key="endpoint.id")
    anony: bool = True
    leaked: bool = False
    excluded: bool = False
    exclude_reason: str | None = Field(default=None, max_length=500)
    # Whether it counts in the ratings: not excluded by an admin, not leaked, not over a cap.
    counted: bool = Field(default=True, index=True)
    # Rule-based tags of the conversation (language, code, long, multi-turn) for categories.
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Style features of both answers: tokens, headers, lists, bold for a, then for b.
    style: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A hash of the first prompt, to cap repeats of the same prompt at ranking time.
    prompt_hash: str | None = Field(default=None, max_length=64, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class Meta(SQLModel, table=True):
    """Small shared key/value state every worker reads (e.g. a generated secret key)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Counter(SQLModel, table=True):
    """A named integer every worker shares, e.g. the version of the votes (bumped on change)."""

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


class LeaderboardCache(SQLModel, table=True):
    """A computed leaderboard shared by all workers, keyed by its options, for one votes version."""

    key: str = Field(primary_key=True, max_length=200)
    version: int = 0
    payload: str = Field(sa_column=Column(Text, nullable=False))
    computed_at: NaiveDatetime = Field(default_factory=utcnow)
    last_requested_at: NaiveDatetime = Field(default_factory=utcnow)
    # A worker recomputing it holds this lease so the others do not compute the same thing.
    computing_until: NaiveDatetime | None = None


class AdminSession(SQLModel, table=True):
    """A signed-in admin browser. Deleting the row signs it out: logout, "log out everywhere",
    and a new admin token (whose fingerprint no longer matches) end it on every worker."""

    # sha256 of the session's secret (the secret itself is only in the signed cookie).
    id: str = Field(primary_key=True, max_length=64)
    # sha256 of the admin token it signed in with.
    token_fingerprint: str = Field(max_length=64)
    client_ip: str | None = Field(default=None, max_length=64)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime = Field(index=True)


class AdminLoginFailure(SQLModel, table=True):
    """A wrong admin token (login form or bearer), for the per-IP limit all workers share."""

    id: int | None = Field(default=None, primary_key=True)
    client_ip: str = Field(index=True, max_length=64)
    at: NaiveDatetime = Field(default_factory=utcnow, index=True)
