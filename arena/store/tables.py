"""The database tables (SQLModel). Model ids are small integers so ratings can use them as-is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, BigInteger, Column, LargeBinary, Text, UniqueConstraint
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
    # Prices per million tokens in the arena's `currency` (none: the board shows no cost), and a
    # spend per UTC day after which the model is not drawn until the next day.
    input_price: float | None = None
    output_price: float | None = None
    daily_budget: float | None = None
    # Accepts OpenAI-style image parts: battles with images draw only from these.
    vision: bool = False
    # An LLM judge: compares the two answers of finished battles (arena/judges/).
    judge: bool = False


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
    # Set when today's spend reached `daily_budget`: not drawn until then (the next UTC midnight).
    over_budget_until: NaiveDatetime | None = None
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
    # The upstream sent no usage: the token counts are estimated from the text.
    tokens_estimated: bool = False
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
    # The same categories as bit flags (arena/votes/category_bits.py), for filtering without JSON.
    category_bits: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    # Style features of both answers as plain numbers, so ranking reads them without decoding
    # anything per vote (`store/style_columns.py`); NULL where a vote has none.
    style_tokens_a: float | None = None
    style_headers_a: float | None = None
    style_lists_a: float | None = None
    style_bold_a: float | None = None
    style_tokens_b: float | None = None
    style_headers_b: float | None = None
    style_lists_b: float | None = None
    style_bold_b: float | None = None
    # A hash of the first prompt, to cap repeats of the same prompt at ranking time.
    prompt_hash: str | None = Field(default=None, max_length=64, index=True)
    # "vision" when a turn of the battle carried images, else "text": separate leaderboards.
    modality: str = Field(default="text", max_length=8, index=True)
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


class PromptTag(SQLModel, table=True):
    """The LLM tagger's work and answer for a prompt (by `Vote.prompt_hash`), for every worker."""

    prompt_hash: str = Field(primary_key=True, max_length=64)
    # pending | working | done | failed (the rules' tags stand)
    status: str = Field(default="pending", max_length=16, index=True)
    tagger: str | None = Field(default=None, max_length=100)
    # The capability bits the tagger answered, and its seven criteria as a JSON object.
    bits: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    criteria: dict[str, bool] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    # A worker holds a claimed prompt until then; past it another worker may take it over.
    claimed_until: NaiveDatetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Spend(SQLModel, table=True):
    """What one endpoint used on one UTC day: answers, tokens, their cost at the day's prices."""

    endpoint_id: int = Field(foreign_key="endpoint.id", primary_key=True)
    day: date = Field(primary_key=True)
    answers: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # None while no answer of the day had prices to cost it.
    cost: float | None = None


class RatingSnapshot(SQLModel, table=True):
    """One day's leaderboard for one board key: the ratings the history chart draws."""

    __table_args__ = (UniqueConstraint("day", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(max_length=10, index=True)  # YYYY-MM-DD, UTC
    key: str = Field(max_length=200)
    # {model: [rating, ci_lower, ci_upper, rank, battles, preliminary]}
    ratings: str = Field(sa_column=Column(Text, nullable=False))
    taken_at: NaiveDatetime = Field(default_factory=utcnow)


class Image(SQLModel, table=True):
    """An image a voter attached, normalised (no metadata), stored once per content."""

    sha256: str = Field(primary_key=True, max_length=64)
    mime: str = Field(max_length=20)  # image/png | image/jpeg
    width: int
    height: int
    size: int  # len(data)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class TurnImage(SQLModel, table=True):
    """An image of a turn's prompt, in the order the voter attached them.

    No foreign key to `image`: retention may delete an image, and the battle keeps its hash.
    """

    turn_id: int = Field(foreign_key="turn.id", primary_key=True)
    position: int = Field(primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    # Bytes the voter uploaded for it (counted in the hourly upload limits).
    upload_bytes: int = 0
    created_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


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


class VoteBlock(SQLModel, table=True):
    """The counted anonymous votes of one vote-id range, packed, so that a worker that holds
    nothing reads a few large values instead of a million rows (`votes/blocks.py`). Only a copy:
    it is used while its fingerprint (count and sum of the ids, the tags counter) still matches."""

    block: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    size: int  # vote ids per block: block k holds ids k*size+1 .. (k+1)*size
    layout: int  # the version of the packed format
    votes: int
    id_sum: int = Field(sa_column=Column(BigInteger, nullable=False))
    tags_version: int = Field(sa_column=Column(BigInteger, nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    style: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    built_at: NaiveDatetime = Field(default_factory=utcnow)
