"""Arena settings: embedded defaults < `configs/arena.toml` < `ARENA_*` environment variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "changethis"}


class Settings(BaseSettings):
    """Every setting of the arena: the `[arena]` table of ARENA_CONFIG, or `ARENA_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="ARENA_", extra="ignore")

    # Where things are.
    database_url: str = "sqlite:///./arena.db"
    config: Path = Path("configs/arena.toml")
    models: Path = Path("configs/models.toml")
    # Secrets: the admin token opens /admin; the secret key signs cookies and encrypts typed API keys.
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
    # How often a streaming answer is written to the database for replays and other workers.
    persist_interval: float = Field(0.5, gt=0)
    # Circuit breaker: a model that fails this many times in a row is paused for this long.
    breaker_failures: int = Field(3, ge=1)
    breaker_pause_minutes: float = Field(10.0, ge=0)

    # Leaderboard.
    min_battles: int = Field(30, ge=0)
    leaderboard_refresh_seconds: float = Field(2.0, gt=0)

    # Front end: htmx from a CDN (pinned, SRI-checked), from web/static/vendor, or whichever exists.
    htmx_source: Literal["auto", "cdn", "local"] = "auto"

    # Voters.
    voter_cookie_days: int = Field(365, ge=1)
    trusted_proxy_headers: list[str] = Field(default_factory=list)

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
    config = Path(overrides.get("config") or os.environ.get("ARENA_CONFIG", "configs/arena.toml"))
    from_file = read_toml_table(config, "arena")
    # The environment beats the file; explicit keyword arguments beat both.
    from_file = {k: v for k, v in from_file.items() if f"ARENA_{k.upper()}" not in os.environ}
    return Settings(**{**from_file, "config": config, **overrides})
