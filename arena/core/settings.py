"""Arena settings: embedded defaults < `configs/arena.toml` < `ARENA_*` environment variables."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr, field_validator

from arena.core.config_path import default_config
from arena.core.judge_rules import JudgeRules, JudgeWeights
from arena.core.rules import (
    BattleRules,
    EndpointRules,
    GenerationRules,
    ImageRules,
    Limits,
    ModerationConfig,
    SamplingRules,
    Timeouts,
)
from arena.core.setting_fields import SettingFields

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "changethis"}


class Settings(SettingFields):
    """Every setting: the `[arena]` table of ARENA_CONFIG, or the env var `ARENA_<NAME>`."""

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
