"""The `arena` command: serve, manage models, rank battles, move battle files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

# Each command module imports only argparse-level things at module level; a command imports the
# web stack, the database or the ratings when it runs. So `arena --help` stays fast, and
# `arena leaderboard --battles FILE` never loads FastAPI or SQLAlchemy.
from arena.cli import (
    admin,
    battles,
    categories,
    demo,
    init,
    leaderboard,
    models,
    prompts,
    serve,
    votes,
)


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (subcommands register their own options)."""
    parser = argparse.ArgumentParser(prog="arena", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    # In the order `arena --help` lists them.
    serve.register(sub)
    init.register(sub)
    models.register(sub)
    votes.register(sub)
    admin.register(sub)
    leaderboard.register(sub)
    categories.register(sub)
    battles.register(sub)
    prompts.register(sub)
    demo.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `arena` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except (ValueError, LookupError) as exc:
        print(f"arena: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
