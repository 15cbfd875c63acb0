"""Every setting the arena reads, with its default and bounds (`settings.py` builds on them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from arena.core.rules import DEFAULT_KEY_ENV_PATTERN


class SettingFields(BaseSettings):
    """The fields of `Settings`: the `[arena]` table of ARENA_CONFIG, or the env var
    `ARENA_<NAME>`. Validation across fields and the rules built from them are in `Settings`."""

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
