"""The endpoint model family beside the table: what comes in (create, update) and what goes out.

`EndpointCreate` and `EndpointUpdate` validate every request (file, UI, CLI, API) before anything
is written; `EndpointPublic` is the one shape the admin API answers with, and it has no field
that could hold an API key, only where the key comes from.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from arena.core.rules import EndpointRules
from arena.store.tables import EndpointBase

# Request bodies refuse unknown fields (a typo must not be silently dropped) and trim text.
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


# The arena's own settings live in ARENA_* variables: no endpoint may send one upstream.
RESERVED_ENV_PREFIX = "ARENA_"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Cloud metadata services: link-local addresses, the AWS IPv6 one, and the names that reach them.
METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254")}
METADATA_NAMES = {"metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
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


def reserved_env(name: str | None) -> bool:
    """Whether an env var name is one of the arena's own (never sent upstream)."""
    return bool(name) and str(name).upper().startswith(RESERVED_ENV_PREFIX)


def check_key_env(value: str | None, rules: EndpointRules | None = None) -> str | None:
    """A variable name that may hold a model's key under the rules; ValueError otherwise."""
    if value is None:
        return None
    rules = rules or EndpointRules()
    if reserved_env(value):
        raise ValueError(
            f"{value} is one of the arena's own settings, not a model's API key; name the "
            "variable that holds the key, e.g. DASHSCOPE_API_KEY"
        )
    if not ENV_NAME.fullmatch(value) or not re.fullmatch(rules.api_key_env_pattern, value):
        raise ValueError(
            f"{value!r} is not a key variable: the name must match api_key_env_pattern "
            f"({rules.api_key_env_pattern}; by default it ends in _KEY or _TOKEN, e.g. "
            "OPENAI_API_KEY)"
        )
    return value


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL's host spells, in any form a resolver accepts; None for a name."""
    bare = host.strip("[]").split("%")[0]
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        try:
            # Resolvers also take 2852039166, 0xa9fea9fe and 169.254.43518 as 169.254.169.254.
            ip = ipaddress.IPv4Address(socket.inet_aton(bare))
        except (OSError, ValueError):
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def link_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    """Whether an address is link-local (169.254.0.0/16, fe80::/10) or a metadata service."""
    return address is not None and (address.is_link_local or address in METADATA_ADDRESSES)


def check_base_url(value: str, rules: EndpointRules | None = None) -> str:
    """An http(s) URL with a host, without its trailing slash; ValueError otherwise.

    Unless the rules allow it, a link-local or metadata host and `user:pass@` are refused.
    """
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value.strip():
        raise ValueError("base_url must be an http(s) URL such as https://host/v1")
    try:
        host, _ = parsed.hostname, parsed.port
    except ValueError:
        raise ValueError("base_url has an invalid port") from None
    if not host:
        raise ValueError("base_url must be an http(s) URL such as https://host/v1")
    if not (rules or EndpointRules()).allow_link_local_upstreams:
        if "@" in parsed.netloc:
            raise ValueError(
                "base_url must not carry user:pass@ credentials; put the key in api_key_env "
                "or type it as the API key"
            )
        if host.rstrip(".").lower() in METADATA_NAMES or link_local(host_address(host)):
            raise ValueError(
                f"base_url: {host} is a link-local or cloud-metadata address, which could "
                "leak the server's credentials; set allow_link_local_upstreams to use it"
            )
    return value.strip().rstrip("/")


def origin(base_url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of a URL (default ports filled in): where a key would be sent."""
    parsed = urlparse(base_url.strip())
    try:
        port = parsed.port
    except ValueError:
        port = None
    scheme = parsed.scheme.lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parsed.hostname or "").rstrip(".").lower(), port or default


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
