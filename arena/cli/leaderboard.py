"""`arena leaderboard`: the ratings of the arena's votes, or of a battle file.

With `--battles FILE` it ranks the file with the pure `ratings` package and never touches the
database: it imports neither `arena.votes.board` (SQLAlchemy, SQLModel), the web stack nor
pydantic. Only `min_battles` is read from the arena's settings (`core/ranking_setting.py`), so
that a file and the arena mark preliminary ratings alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ratings import Battles

# At most this many rejected records of a battle file are listed; the rest are counted.
MAX_REJECTED_SHOWN = 20


def _anchor(value: str | None) -> tuple[str, float] | None:
    if not value:
        return None
    name, sep, rating = value.rpartition("=")
    if not sep or not name:
        raise ValueError("--anchor takes MODEL=RATING, e.g. --anchor gpt-4o=1200")
    return name, float(rating)


def _file_battles(args: argparse.Namespace) -> Battles:
    """The battles of `--battles FILE`; what was left out goes to standard error."""
    from ratings import load_battles

    report = load_battles(
        args.battles,
        anony_only=not args.all,
        category=args.category,
        style_from_conversations=args.style_control,
    )
    for no, reason in report.rejected[:MAX_REJECTED_SHOWN]:
        print(f"{args.battles}:{no}: rejected: {reason}", file=sys.stderr)
    if len(report.rejected) > MAX_REJECTED_SHOWN:
        more = len(report.rejected) - MAX_REJECTED_SHOWN
        print(f"… and {more} more rejected records", file=sys.stderr)
    if report.skipped_non_anony:
        print(
            f"{report.skipped_non_anony} non-anonymous battles left out (--all keeps them)",
            file=sys.stderr,
        )
    return report.battles


def _arena_battles(args: argparse.Namespace) -> Battles:
    """The arena's counted votes after vote hygiene; what hygiene left out goes to stderr."""
    from arena.cli.common import database
    from arena.core.settings import load_settings
    from arena.votes.board import LeaderboardOptions, load_votes, ranking_config

    settings = load_settings()
    opts = LeaderboardOptions(style_control=args.style_control, category=args.category)
    with database(settings, read_only=True) as engine:
        battles, left_out = load_votes(engine, opts, ranking_config(settings).hygiene)
    if any(left_out.values()):
        print(f"left out by vote hygiene: {left_out}", file=sys.stderr)
    return battles


def leaderboard(args: argparse.Namespace) -> int:
    """Print the leaderboard of the arena's votes or of `--battles FILE`."""
    from arena.core.ranking_setting import min_battles
    from ratings import compute_leaderboard
    from ratings.formats import to_csv, to_json_dict, to_markdown, to_table

    battles = _file_battles(args) if args.battles else _arena_battles(args)
    lb = compute_leaderboard(
        battles,
        ci=args.ci,
        rounds=args.rounds,
        seed=args.seed,
        style_control=args.style_control,
        anchor=_anchor(args.anchor),
        min_battles=min_battles(),
    )
    lb = dataclasses.replace(lb, category=args.category)
    render = {"table": to_table, "csv": to_csv, "markdown": to_markdown}.get(args.format)
    text = render(lb) if render else json.dumps(to_json_dict(lb), indent=2) + "\n"
    sys.stdout.write(text)
    return 0


def register(sub: Any) -> None:
    """Add `leaderboard` to the CLI."""
    p = sub.add_parser("leaderboard", help="print the leaderboard (the arena's, or a file's)")
    p.add_argument("--battles", help="a battle file (JSON Lines or a JSON array) to rank instead")
    p.add_argument("--format", choices=["table", "json", "csv", "markdown"], default="table")
    p.add_argument("--ci", choices=["sandwich", "bootstrap"], default="sandwich")
    p.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--style-control", action="store_true")
    p.add_argument("--anchor", help="MODEL=RATING: pin one model's rating")
    p.add_argument("--category")
    p.add_argument("--all", action="store_true", help="count non-anonymous battles too (files)")
    p.set_defaults(func=leaderboard)
