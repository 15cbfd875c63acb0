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
    from ratings import Battles, Leaderboard

# At most this many rejected records of a battle file are listed; the rest are counted.
MAX_REJECTED_SHOWN = 20


def _anchor(value: str | None) -> tuple[str, float] | None:
    if not value:
        return None
    name, sep, rating = value.rpartition("=")
    if not sep or not name:
        raise ValueError("--anchor takes MODEL=RATING, e.g. --anchor gpt-4o=1200")
    return name, float(rating)


def _file_battles(args: argparse.Namespace, category: str | None) -> Battles:
    """The battles of `--battles FILE`; what was left out goes to standard error."""
    from ratings import load_battles

    report = load_battles(
        args.battles,
        anony_only=not args.all,
        category=category,
        style_from_conversations=args.style_control,
        modality=args.modality,
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


def _arena_battles(
    args: argparse.Namespace, category: str | None
) -> tuple[Battles, dict[str, Any]]:
    """The arena's counted votes after vote hygiene, and each model's speed and cost over them
    (with the currency); what hygiene left out goes to stderr."""
    from sqlmodel import Session, select

    from arena.cli.common import database
    from arena.core.settings import load_settings
    from arena.store.tables import Endpoint
    from arena.votes.board import load_votes_with_ids
    from arena.votes.board_options import LeaderboardOptions, ranking_config
    from arena.votes.speed import AnswerCache, board_figures

    settings = load_settings()
    opts = LeaderboardOptions(
        style_control=args.style_control,
        category=category,
        modality=args.modality,
        votes=args.votes,
    )
    config = ranking_config(settings)
    with database(settings, read_only=True) as engine:
        battles, left_out, kept = load_votes_with_ids(
            engine, opts, config.hygiene, judges=config.judges
        )
        with Session(engine) as session:
            endpoints = list(session.exec(select(Endpoint)))
        figures = board_figures(engine, AnswerCache(), kept, endpoints)
    if any(left_out.values()):
        print(f"left out by vote hygiene: {left_out}", file=sys.stderr)
    by_name = {e.name: figures.get(e.id or 0) for e in endpoints}
    return battles, {"currency": settings.currency, "models": by_name}


def leaderboard(args: argparse.Namespace) -> int:
    """Print the leaderboard of the arena's votes or of `--battles FILE`."""
    from arena.core import ranking_setting
    from ratings.formats import to_csv, to_json_dict, to_markdown, to_table
    from ratings.preliminary import compute_listed

    def fit(category: str | None) -> tuple[Battles, Leaderboard, dict[str, Any]]:
        battles, figures = (
            (_file_battles(args, category), None)
            if args.battles
            else _arena_battles(args, category)
        )
        lb = compute_listed(
            battles,
            listing_threshold=ranking_setting.min_battles(),
            ties=args.ties or ranking_setting.ties(),
            reweight=args.reweight,
            ci=args.ci,
            rounds=args.rounds,
            seed=args.seed,
            style_control=args.style_control,
            anchor=_anchor(args.anchor),
        )
        lb = dataclasses.replace(lb, category=category)
        data = to_json_dict(lb)
        if figures is not None:
            from arena.votes.speed import empty_figures

            for m in data["models"]:
                m.update(figures["models"].get(m["model"]) or empty_figures())
            data["currency"] = figures["currency"]
        return battles, lb, data

    battles, lb, data = fit(args.category)
    if args.flip:
        return _flip(battles, lb, args.flip)
    if args.category:
        from arena.votes.category_board import add_rank_overall

        add_rank_overall(data["models"], fit(None)[2]["models"])
    render = {"table": to_table, "csv": to_csv, "markdown": to_markdown}.get(args.format)
    text = render(data) if render else json.dumps(data, indent=2) + "\n"
    sys.stdout.write(text)
    return 0


def _flip(battles: Battles, lb: Leaderboard, pair: str) -> int:
    """Print the vote-flip audit of `--flip A,B` as JSON."""
    from arena.votes.audit import flip_audit

    a, sep, b = pair.partition(",")
    if not sep or not a or not b:
        raise ValueError("--flip takes two model names: --flip MODEL_A,MODEL_B")
    sys.stdout.write(json.dumps(flip_audit(battles, lb, a, b), indent=2) + "\n")
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
    p.add_argument("--reweight", action="store_true", help="weight battles by 1 / pair frequency")
    p.add_argument("--ties", choices=["half", "drop"], help="count ties half a win, or drop them")
    p.add_argument("--flip", metavar="A,B", help="print how many votes keep A and B in order")
    p.add_argument(
        "--modality",
        choices=["text", "vision"],
        default="text",
        help="the text board (battles without images, the default) or the vision board",
    )
    p.add_argument("--all", action="store_true", help="count non-anonymous battles too (files)")
    p.add_argument(
        "--votes",
        choices=["human", "judges", "all"],
        default="human",
        help="people's votes (default), the LLM judges' verdicts, or both (the arena's database)",
    )
    p.set_defaults(func=leaderboard)
