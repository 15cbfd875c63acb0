"""`arena init`: a starter `arena.toml` and `models.toml` in the current folder, from the examples
that ship inside the package, so an installed arena can be configured without the repository."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# The example arena.toml names the models file as the repository lays it out; a folder made by
# `arena init` keeps both files side by side.
MODELS_LINE = 'models = "models.toml"            # the models file, beside this one\n'


def starter_files() -> dict[str, str]:
    """File name → text of the starter configuration."""
    from arena.core.resources import example_config

    settings = example_config("arena.toml").replace("[arena]\n", "[arena]\n" + MODELS_LINE, 1)
    return {"arena.toml": settings, "models.toml": example_config("models.toml")}


def init(args: argparse.Namespace) -> int:
    """Write the starter files; refuse to overwrite an existing one without --force."""
    folder = Path(args.dir)
    files = starter_files()
    existing = [name for name in files if (folder / name).exists()]
    if existing and not args.force:
        print(
            f"arena: error: {', '.join(existing)} already exist(s) in {folder.resolve()}; "
            "nothing was written (use --force to overwrite)",
            file=sys.stderr,
        )
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    print(
        "Next: uncomment or add models in models.toml (keys stay in environment variables), "
        "set ARENA_ADMIN_TOKEN and ARENA_SECRET_KEY, then run `arena serve` in this folder."
    )
    return 0


def register(sub: Any) -> None:
    """Add `init` to the CLI."""
    p = sub.add_parser("init", help="write a starter arena.toml and models.toml here")
    p.add_argument("--dir", default=".", help="the folder to write them to (default: here)")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(func=init)
