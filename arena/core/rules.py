"""The rules services are built with: plain values read once from the settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
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


@dataclass(frozen=True)
class SamplingRules:
    """How matchmaking draws two models (see arena/matchmaking/policy.py)."""

    mode: Literal["weighted", "active"] = "weighted"
    active_rule: Literal["design", "ratings", "pairs"] = "design"
    exploration: float = 0.2
    horizon: int = 250
    new_model_battles: int = 300
    new_model_boost: float = 3.0
    battle_targets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    target_boost: float = 3.0


@dataclass(frozen=True)
class ImageRules:
    """What images a voter may attach to a turn, and how they are normalised."""

    max_per_turn: int = 4
    max_bytes: int = 5 * 1024 * 1024  # decoded bytes of one image as sent
    max_pixels: int = 50_000_000  # width x height before decoding (decompression bombs)
    max_side: int = 2048  # longer side after normalising (0 = keep the size)
    upload_bytes_per_voter_per_hour: int = 200 * 1024 * 1024  # 0 = no limit
    upload_bytes_per_ip_per_hour: int = 1024 * 1024 * 1024  # 0 = no limit


@dataclass(frozen=True)
class BattleRules:
    """What a voter may send and how a vote counts."""

    max_prompt_chars: int = 30_000
    max_turns: int = 10
    count_leaked_votes: bool = False
    limits: Limits = field(default_factory=Limits)
    # Categories: the rules' hard-prompt threshold, and the LLM tagger's endpoint (if any).
    hard_prompt_rules_threshold: int = 4
    category_tagger: str | None = None
    images: ImageRules = field(default_factory=ImageRules)


@dataclass(frozen=True)
class GenerationRules:
    """How answers are generated: upstream limits, saves, replacements and the breaker."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    persist_interval: float = 0.5  # seconds between saves of a streaming answer
    replacement_tries: int = 2  # models tried in a failed side's seat before the first token
    breaker_failures: int = 3  # failures in a row that pause a model
    breaker_pause: timedelta = timedelta(minutes=10)
    default_max_tokens: int = 2048
    max_answer_chars: int = 200_000  # an answer's text the arena keeps (content + reasoning)


# A key variable's name: ends in _KEY or _TOKEN (so _API_KEY too). The arena's own ARENA_*
# variables are refused by `arena.store.endpoint_models` whatever this pattern says.
DEFAULT_KEY_ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*_(KEY|TOKEN)$"


@dataclass(frozen=True)
class EndpointRules:
    """What a model endpoint may name: which env vars hold keys, which hosts may be called."""

    api_key_env_pattern: str = DEFAULT_KEY_ENV_PATTERN
    allow_link_local_upstreams: bool = False
