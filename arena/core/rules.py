"""The rules services are built with: plain values read once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Limits:
    """Per-hour limits (0 = none) and the daily cap on counted votes per voter."""

    battles_per_voter: int = 60
    battles_per_ip: int = 300
    votes_per_voter: int = 60
    votes_per_ip: int = 300
    counted_votes_per_voter_per_day: int = 100


@dataclass(frozen=True)
class Timeouts:
    """Connect, first-token, between-chunks (stall) and whole-answer limits, in seconds."""

    connect: float = 10.0
    first_token: float = 60.0
    stall: float = 60.0
    total: float = 600.0
    retries: int = 2


@dataclass(frozen=True)
class ModerationConfig:
    """Where the moderation endpoint is and what to do when it fails."""

    enabled: bool = False
    base_url: str = "https://api.openai.com/v1"
    model: str = "omni-moderation-latest"
    api_key_env: str | None = "OPENAI_API_KEY"
    policy: Literal["open", "closed"] = "open"
    timeout: float = 10.0
