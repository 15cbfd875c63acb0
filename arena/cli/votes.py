"""`arena votes list | exclude | include`: the admin's vote review from a terminal.

The same functions as the admin's vote pages (`arena.admin.vote_service`), imported when a command
runs so that building the parser loads no database code.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from arena.cli.common import Handler, admin_command, database


def _tristate(value: str | None) -> bool | None:
    return None if value in (None, "any") else value == "yes"


@admin_command
def _list(args: argparse.Namespace) -> int:
    from arena.admin import review, vote_service

    filters = review.VoteFilter(
        args.model,
        args.since,
        args.until,
        _tristate(args.flagged),
        _tristate(args.excluded),
        args.limit,
        0,
    )
    with database(read_only=True) as engine:
        votes = vote_service.list_votes(engine, filters)
    for v in votes:
        marks = ("  [flagged]" if v.leaked else "") + (
            f"  [excluded: {v.exclude_reason}]" if v.excluded else ""
        )
        prompt = v.turns[0].prompt.replace("\n", " ")[:60] if v.turns else ""
        print(
            f"{v.battle_id}  {v.voted_at:%Y-%m-%d %H:%M}  {v.model_a} vs {v.model_b}: "
            f"{v.winner}{marks}  «{prompt}»"
        )
    if not votes:
        print("no votes match")
    return 0


def _set_excluded(excluded: bool) -> Handler:
    @admin_command
    def run(args: argparse.Namespace) -> int:
        from arena.admin import vote_service
        from arena.core.settings import load_settings

        with database() as engine:
            vote_service.set_excluded(
                engine,
                args.battle_id,
                excluded=excluded,
                reason=getattr(args, "reason", None),
                count_leaked=load_settings().count_leaked_votes,
            )
        print(f"{'excluded' if excluded else 'included'} the vote on {args.battle_id}")
        return 0

    return run


def register(sub: Any) -> None:
    """Add `votes list | exclude | include` to the CLI."""
    votes = sub.add_parser("votes", help="review votes: list, exclude spam, include again")
    vsub = votes.add_subparsers(dest="votes_command", required=True)
    p = vsub.add_parser("list", help="recent votes, newest first")
    p.add_argument("--model")
    p.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--until", type=date.fromisoformat, help="last day, YYYY-MM-DD")
    p.add_argument("--flagged", choices=["yes", "no", "any"], help="a model's name leaked")
    p.add_argument("--excluded", choices=["yes", "no", "any"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_list)
    p = vsub.add_parser("exclude", help="leave a vote out of the leaderboard")
    p.add_argument("battle_id")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=_set_excluded(True))
    p = vsub.add_parser("include", help="count an excluded vote again")
    p.add_argument("battle_id")
    p.set_defaults(func=_set_excluded(False))
