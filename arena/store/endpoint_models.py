"""The endpoint model family beside the table: what comes in (create, update) and what goes out.

`EndpointCreate` and `EndpointUpdate` validate every request (file, UI, CLI, API) before anything
is written; `EndpointPublic` is the one shape the admin API answers with, and it has no field
that could hold an API key, only where the key comes from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from arena.core.rules import EndpointRules
from arena.store.endpoint_urls import check_base_url, check_key_env
from arena.store.tables import EndpointBase

# Request bodies refuse unknown fields (a typo must not be silently dropped) and trim text.
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


RULES_CONTEXT = "endpoint_rules"
PRICE_HELP = "per million tokens, in the arena's currency setting"
BUDGET_HELP = "spend per UTC day (needs prices) after which it is not drawn until the next day"


def rules_context(rules: EndpointRules | None) -> dict[str, Any]:
    """The validation context that carries the endpoint rules into the validators."""
    return {RULES_CONTEXT: rules or EndpointRules()}


def _rules(info: ValidationInfo) -> EndpointRules:
    # Without a context (a caller that passed no rules) the strict defaults apply.
    context = info.context if isinstance(info.context, Mapping) else {}
    rules = context.get(RULES_CONTEXT)
    return rules if isinstance(rules, EndpointRules) else EndpointRules()


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
    input_price: float | None = Field(default=None, ge=0, description=PRICE_HELP)
    output_price: float | None = Field(default=None, ge=0, description=PRICE_HELP)
    daily_budget: float | None = Field(default=None, gt=0, description=BUDGET_HELP)
    vision: bool = False
    judge: bool = False

    @field_validator("base_url")
    @classmethod
    def _valid_url(cls, value: str, info: ValidationInfo) -> str:
        return check_base_url(value, _rules(info))

    @field_validator("api_key_env")
    @classmethod
    def _key_variable(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_key_env(value, _rules(info))

    @field_validator("weight")
    @classmethod
    def _finite_weight(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("weight must be a finite number >= 0")
        return value

    @field_validator("input_price", "output_price", "daily_budget")
    @classmethod
    def _finite_money(cls, value: float | None) -> float | None:
        return check_money(value)


def check_money(value: float | None) -> float | None:
    """A price or budget: a finite number (None: not set)."""
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
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
    input_price: float | None = Field(default=None, ge=0, description=PRICE_HELP)
    output_price: float | None = Field(default=None, ge=0, description=PRICE_HELP)
    daily_budget: float | None = Field(default=None, gt=0, description=BUDGET_HELP)
    vision: bool | None = None
    judge: bool | None = None

    @field_validator("base_url")
    @classmethod
    def _valid_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_base_url(value, _rules(info))

    @field_validator("api_key_env")
    @classmethod
    def _key_variable(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_key_env(value, _rules(info))

    @field_validator("input_price", "output_price", "daily_budget")
    @classmethod
    def _finite_money(cls, value: float | None) -> float | None:
        return check_money(value)


class EndpointCreateRequest(EndpointCreate):
    """`POST /api/admin/models`: the endpoint fields plus what the API fills in or stores.

    The preset is applied before the fields are checked, so `base_url` may come from it.
    """

    # Documents the API body; `arena.admin.parsing.parse_new` validates it (preset first).

    preset: str | None = Field(default=None, description="fills base_url, api_key_env, hints")
    thinking: bool | None = Field(default=None, description="thinking on/off, for a preset")
    api_key: str | None = Field(default=None, description="stored encrypted; never shown again")


class EndpointUpdateRequest(EndpointUpdate):
    """`PATCH /api/admin/models/{name}`: the fields to change, and `api_key` (null clears it).

    The result, merged with the endpoint, is checked whole; the name cannot change.
    """

    # Documents the API body; `arena.admin.parsing.parse_edit` validates it.

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


class BudgetStatus(BaseModel):
    """The daily budget: its amount, and whether today's spend reached it (until when)."""

    daily_budget: float | None
    over: bool
    until: str | None


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
    budget: BudgetStatus | None = None
    created_at: str
    updated_at: str
    votes: VoteCounts | None = None


class Removal(BaseModel):
    """What `DELETE /api/admin/models/{name}` did: deleted, or retired to keep its history."""

    name: str
    result: str
    detail: str
