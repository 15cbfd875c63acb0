"""Arena settings: embedded defaults < `configs/arena.toml` < `ARENA_*` environment variables."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from arena.core.config_path import default_config
from arena.core.judge_rules import JudgeRules, JudgeWeights
from arena.core.rules import (
    DEFAULT_KEY_ENV_PATTERN,
    BattleRules,
    EndpointRules,
    GenerationRules,
    ImageRules,
    Limits,
    ModerationConfig,
    SamplingRules,
    Timeouts,
)

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "changethis"}


class Settings(BaseSettings):
    """Every setting: the `[arena]` table of ARENA_CONFIG, or the env var `ARENA_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="ARENA_", extra="ignore")

    # Where things are.
    database_url: str = "sqlite:///./arena.db"
    config: Path = Path("configs/arena.toml")
    models: Path = Path("configs/models.toml")
    # Secrets: the admin token opens /admin; the secret key signs cookies and encrypts typed keys.
    admin_token: SecretStr | None = None
    secret_key: SecretStr | None = None
    environment: Literal["development", "production"] = "development"

    # Battles.
    max_prompt_chars: int = Field(30_000, ge=1)
    max_turns: int = Field(10, ge=1)
    replacement_tries: int = Field(2, ge=0)
    # Upstream calls (seconds). The read timeout doubles as the stall detector mid-stream.
    connect_timeout: float = Field(10.0, gt=0)
    first_token_timeout: float = Field(60.0, gt=0)
    stall_timeout: float = Field(60.0, gt=0)
    total_timeout: float = Field(600.0, gt=0)
    upstream_retries: int = Field(2, ge=0)
    default_max_tokens: int = Field(2048, ge=1)
    # An answer is cut (finish reason "length") past this many characters, whatever the model.
    max_answer_chars: int = Field(200_000, ge=1)
    # How often a streaming answer is written to the database for replays and other workers.
    persist_interval: float = Field(0.5, gt=0)
    # Circuit breaker: a model that fails this many times in a row is paused for this long.
    breaker_failures: int = Field(3, ge=1)
    breaker_pause_minutes: float = Field(10.0, ge=0)
    # Which env vars a model endpoint may name as its key (never ARENA_*, whatever this says),
    # and whether upstreams on link-local / cloud-metadata addresses or with user:pass@ may be used.
    api_key_env_pattern: str = DEFAULT_KEY_ENV_PATTERN
    allow_link_local_upstreams: bool = False

    # Vote integrity: a vote whose answer names its own model is kept but does not count.
    count_leaked_votes: bool = False
    # Rate limits per hour (0 = none), per voter cookie and per client IP; 429 with Retry-After.
    battles_per_voter_per_hour: int = Field(60, ge=0)
    battles_per_ip_per_hour: int = Field(300, ge=0)
    votes_per_voter_per_hour: int = Field(60, ge=0)
    votes_per_ip_per_hour: int = Field(300, ge=0)
    # Votes beyond this many in 24 hours from one voter are recorded but do not count.
    counted_votes_per_voter_per_day: int = Field(100, ge=0)

    # Moderation hook (off by default): an OpenAI-compatible /moderations endpoint checks the
    # prompt and both answers; when it fails, "open" lets text through and "closed" refuses it.
    moderation_enabled: bool = False
    moderation_base_url: str = "https://api.openai.com/v1"
    moderation_model: str = "omni-moderation-latest"
    moderation_api_key_env: str | None = "OPENAI_API_KEY"
    moderation_policy: Literal["open", "closed"] = "open"
    moderation_timeout: float = Field(10.0, gt=0)

    # Matchmaking (arena/matchmaking/policy.py): which two models meet.
    matchmaking: Literal["weighted", "active"] = "weighted"
    active_rule: Literal["design", "ratings", "pairs"] = "design"
    active_exploration: float = Field(0.2, ge=0, le=1)
    active_horizon: int = Field(250, ge=1)
    # New models are drawn `new_model_boost` times as often until they have this many battles.
    new_model_battles: int = Field(300, ge=0)
    new_model_boost: float = Field(3.0, gt=0)
    # Model name -> rivals it should meet more often (by `target_boost`).
    battle_targets: dict[str, list[str]] = Field(default_factory=dict)
    target_boost: float = Field(3.0, gt=0)

    # Leaderboard.
    min_battles: int = Field(30, ge=0)
    bootstrap_rounds: int = Field(1000, ge=10)
    ties: Literal["half", "drop"] = "half"
    personal_board_min_votes: int = Field(20, ge=1)
    # Vote hygiene at ranking time (see arena/votes/hygiene.py for the rules).
    hygiene_repeated_prompts: bool = True
    prompt_repeat_floor: int = Field(20, ge=1)
    hygiene_anomalous_voters: bool = True
    anomaly_min_votes: int = Field(10, ge=2)
    anomaly_alpha: float = Field(0.01, gt=0, lt=1)
    leaderboard_refresh_seconds: float = Field(2.0, gt=0)
    # A view of a leaderboard never computed before waits this long, then shows "computing".
    leaderboard_wait_seconds: float = Field(0.5, ge=0, le=30)

    # The unit of the models' input_price / output_price (per million tokens) and daily budgets.
    currency: str = Field("USD", min_length=1, max_length=12)

    # Categories (arena/votes/tags.py, hard_prompts.py, llm_tagger.py). A prompt is a hard prompt
    # when at least this many of LMArena's seven criteria hold: by the LLM tagger's answer, and
    # by the rules, which can read fewer of the criteria from the text alone.
    hard_prompt_threshold: int = Field(6, ge=1, le=7)
    hard_prompt_rules_threshold: int = Field(4, ge=1, le=7)
    # The name of a configured endpoint that tags prompts in the background (none: rules only).
    category_tagger: str | None = None
    tagger_concurrency: int = Field(4, ge=1)
    tagger_retries: int = Field(2, ge=0)
    tagger_timeout: float = Field(30.0, gt=0)
    tagger_poll_seconds: float = Field(2.0, gt=0)

    # LLM judges (arena/judges/): every finished battle is judged in the background, both orders.
    judging_enabled: bool = True
    judge_poll_seconds: float = Field(5.0, gt=0)
    judge_concurrency: int = Field(4, ge=1)
    judge_max_attempts: int = Field(4, ge=1)
    judge_retry_seconds: float = Field(10.0, ge=0)
    judge_daily_budget: int = Field(1000, ge=0)
    judge_strong_weight: float = Field(3.0, gt=0)
    judge_weight: float = Field(0.5, ge=0)

    # Front end: htmx from a CDN (pinned, SRI-checked), from web/static/vendor, or whichever exists.
    htmx_source: Literal["auto", "cdn", "local"] = "auto"
    # /docs and /redoc: Swagger UI and ReDoc from their CDN, or from the installed fastapi-offline.
    docs_source: Literal["auto", "cdn", "local"] = "auto"

    # Logs: plain text lines or JSON lines, each with its request id.
    log_format: Literal["text", "json"] = "text"
    # `host:port` to serve /metrics on instead of the main address (then without a token).
    metrics_address: str | None = None

    # Admin: wrong admin tokens (login form or bearer) allowed per client IP per window.
    admin_login_attempts: int = Field(10, ge=0)
    admin_login_window_minutes: float = Field(15.0, gt=0)

    # Voters.
    voter_cookie_days: int = Field(365, ge=1)
    trusted_proxy_headers: list[str] = Field(default_factory=list)
    # The largest request body any route reads (413 beyond); prompts are far smaller.
    max_request_bytes: int = Field(2 * 1024 * 1024, ge=1024)

    # Images in prompts (vision battles): how many a turn may carry, how large each may be
    # decoded, the pixel count refused before decoding (decompression bombs), and the longer
    # side they are scaled down to (0 = keep). Routes that take images read bodies up to
    # `max_image_request_bytes` instead of `max_request_bytes` (4 x 5 MiB in base64 is ~27 MiB).
    max_images_per_turn: int = Field(4, ge=0, le=16)
    max_image_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(50_000_000, ge=1)
    image_max_side: int = Field(2048, ge=0)
    max_image_request_bytes: int = Field(28 * 1024 * 1024, ge=1024)
    # Image bytes a voter (cookie) or a client IP may upload per hour (0 = no limit); 429 beyond.
    image_bytes_per_voter_per_hour: int = Field(200 * 1024 * 1024, ge=0)
    image_bytes_per_ip_per_hour: int = Field(1024 * 1024 * 1024, ge=0)
    # Days an image is kept after the battle that used it last; 0 keeps images for ever.
    image_retention_days: int = Field(0, ge=0)

    @field_validator("admin_token")
    @classmethod
    def _admin_token_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == "":
            return None
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("ARENA_ADMIN_TOKEN must be at least 16 characters")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == "":
            return None
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("ARENA_SECRET_KEY must be at least 32 characters")
        if value is not None and value.get_secret_value().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("ARENA_SECRET_KEY is a placeholder; set a real secret")
        return value

    @field_validator("api_key_env_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"api_key_env_pattern is not a regular expression: {exc}") from None
        return value

    @property
    def endpoint_rules(self) -> EndpointRules:
        """Which key variables and upstream hosts a model endpoint may use."""
        return EndpointRules(
            api_key_env_pattern=self.api_key_env_pattern,
            allow_link_local_upstreams=self.allow_link_local_upstreams,
        )

    @property
    def limits(self) -> Limits:
        """The rate limits and the daily vote cap."""
        return Limits(
            battles_per_voter=self.battles_per_voter_per_hour,
            battles_per_ip=self.battles_per_ip_per_hour,
            votes_per_voter=self.votes_per_voter_per_hour,
            votes_per_ip=self.votes_per_ip_per_hour,
            counted_votes_per_voter_per_day=self.counted_votes_per_voter_per_day,
        )

    @property
    def timeouts(self) -> Timeouts:
        """The limits on upstream calls."""
        return Timeouts(
            connect=self.connect_timeout,
            first_token=self.first_token_timeout,
            stall=self.stall_timeout,
            total=self.total_timeout,
            retries=self.upstream_retries,
        )

    @property
    def moderation(self) -> ModerationConfig:
        """The moderation hook's settings."""
        return ModerationConfig(
            enabled=self.moderation_enabled,
            base_url=self.moderation_base_url,
            model=self.moderation_model,
            api_key_env=self.moderation_api_key_env,
            policy=self.moderation_policy,
            timeout=self.moderation_timeout,
        )

    @property
    def sampling(self) -> SamplingRules:
        """How matchmaking draws two models."""
        return SamplingRules(
            mode=self.matchmaking,
            active_rule=self.active_rule,
            exploration=self.active_exploration,
            horizon=self.active_horizon,
            new_model_battles=self.new_model_battles,
            new_model_boost=self.new_model_boost,
            battle_targets=self.battle_targets,
            target_boost=self.target_boost,
        )

    @property
    def image_rules(self) -> ImageRules:
        """What images a voter may attach, and how they are normalised."""
        return ImageRules(
            max_per_turn=self.max_images_per_turn,
            max_bytes=self.max_image_bytes,
            max_pixels=self.max_image_pixels,
            max_side=self.image_max_side,
            upload_bytes_per_voter_per_hour=self.image_bytes_per_voter_per_hour,
            upload_bytes_per_ip_per_hour=self.image_bytes_per_ip_per_hour,
        )

    @property
    def battle_rules(self) -> BattleRules:
        """What a voter may send and how a vote counts."""
        return BattleRules(
            max_prompt_chars=self.max_prompt_chars,
            max_turns=self.max_turns,
            count_leaked_votes=self.count_leaked_votes,
            limits=self.limits,
            hard_prompt_rules_threshold=self.hard_prompt_rules_threshold,
            category_tagger=self.category_tagger,
            images=self.image_rules,
        )

    @property
    def generation(self) -> GenerationRules:
        """How answers are generated."""
        return GenerationRules(
            timeouts=self.timeouts,
            persist_interval=self.persist_interval,
            replacement_tries=self.replacement_tries,
            breaker_failures=self.breaker_failures,
            breaker_pause=timedelta(minutes=self.breaker_pause_minutes),
            default_max_tokens=self.default_max_tokens,
            max_answer_chars=self.max_answer_chars,
        )

    @property
    def judging(self) -> JudgeRules:
        """How the background judges work."""
        return JudgeRules(
            enabled=self.judging_enabled,
            poll_seconds=self.judge_poll_seconds,
            concurrency=self.judge_concurrency,
            max_attempts=self.judge_max_attempts,
            retry_seconds=self.judge_retry_seconds,
            daily_budget=self.judge_daily_budget,
        )

    @property
    def judge_weights(self) -> JudgeWeights:
        """How judgements count on the judges' and the combined boards."""
        return JudgeWeights(strong=self.judge_strong_weight, in_all=self.judge_weight)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file."""
        return self.database_url.startswith("sqlite")


def read_toml_table(path: Path, table: str) -> dict[str, Any]:
    """The named table of a TOML file, or {} when the file does not exist."""
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    value = data.get(table, {})
    if not isinstance(value, dict):
        raise ValueError(f"{path}: [{table}] must be a table")
    return value


def load_settings(**overrides: Any) -> Settings:
    """Settings from ARENA_CONFIG's `[arena]` table, overridden by `ARENA_*`, then by kwargs."""
    config = Path(overrides.get("config") or os.environ.get("ARENA_CONFIG") or default_config())
    from_file = read_toml_table(config, "arena")
    # The environment beats the file; explicit keyword arguments beat both.
    from_file = {k: v for k, v in from_file.items() if f"ARENA_{k.upper()}" not in os.environ}
    return Settings(**{**from_file, "config": config, **overrides})
