"""The settings `arena leaderboard --battles FILE` needs, read without pydantic.

Ranking a file must not pay for the settings machinery (pydantic-settings takes longer to import
than ranking a small file): `min_battles` is resolved here the way `load_settings` resolves it,
`ARENA_MIN_BATTLES` over the `[arena]` table of ARENA_CONFIG over the default, and checked alike.
"""

from __future__ import annotations

import os
import tomllib
from typing import Any

from arena.core.config_path import config_file

#: The default of `Settings.min_battles` (tests/test_ranking_setting.py keeps the two equal).
DEFAULT_MIN_BATTLES = 30


#: The default of `Settings.ties`.
DEFAULT_TIES = "half"


def _raw(name: str, default: Any) -> tuple[Any, str]:
    """A setting's raw value from the environment, else the config file, else the default, and
    where it came from."""
    env = f"ARENA_{name.upper()}"
    if (raw := os.environ.get(env)) is not None:
        return raw, env
    config = config_file()
    table: Any = {}
    if config.exists():
        with config.open("rb") as fh:
            table = tomllib.load(fh).get("arena", {})
    if not isinstance(table, dict):
        raise ValueError(f"{config}: [arena] must be a table")
    return table.get(name, default), f"{config}: {name}"


def ties() -> str:
    """`ties` ("half" or "drop") from the environment, else the config file, else the default."""
    raw, source = _raw("ties", DEFAULT_TIES)
    if raw not in ("half", "drop"):
        raise ValueError(f"{source} must be 'half' or 'drop', not {raw!r}")
    return str(raw)


def min_battles() -> int:
    """`min_battles` from the environment, else the config file, else the default."""
    raw, source = _raw("min_battles", DEFAULT_MIN_BATTLES)
    try:
        if isinstance(raw, bool | float):
            raise ValueError
        value = int(str(raw).strip()) if isinstance(raw, str) else int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{source} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{source} must be at least 0, not {value}")
    return value
