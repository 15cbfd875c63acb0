"""Where the arena's config file is, found without importing the settings machinery (the ranking
CLI path reads it too, and must stay light)."""

from __future__ import annotations

import os
from pathlib import Path

#: What `arena init` writes into the current folder.
INIT_CONFIG = Path("arena.toml")


def default_config() -> Path:
    """`configs/arena.toml`, or `arena.toml` (what `arena init` writes) where only that exists."""
    repo_style = Path("configs/arena.toml")
    return INIT_CONFIG if not repo_style.exists() and INIT_CONFIG.exists() else repo_style


def config_file() -> Path:
    """ARENA_CONFIG, else the default config file."""
    return Path(os.environ.get("ARENA_CONFIG") or default_config())
