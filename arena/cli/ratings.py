"""`arena leaderboard` and `arena battles export|import`: ratings and battle files."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from arena.core.settings import load_settings
from ratings import compute_leaderboard, load_battles
from ratings.formats import to_csv, to_json_dict, to_markdown, to_table


def _anchor(value: str | None) -> tuple[str, float] | None:
    if not value:
        return None
    name, sep, rating = value.rpartition("=")
    if not sep or not name:
        raise ValueError("--anchor takes MODEL=RATING, e.g. --anchor gpt-4o=1200")
    return name, float(rating)


def _leaderboard(args: argparse.Namespace) -> int:
    from arena.votes.board import LeaderboardOptions, load_votes, ranking_config

    if args.battles:
        report = load_battles(args.battles, anony_only=not args.all, category=args.category)
        for no, reason in report.rejected[:20]:
            print(f"{args.battles}:{no}: rejected: {reason}", file=sys.stderr)
        if len(report.rejected) > 20:
            print(f"… and {len(report.rejected) - 20} more rejected records", file=sys.stderr)
        if report.skipped_non_anony:
            print(
                f"{report.skipped_non_anony} non-anonymous battles left out (--all keeps them)",
                file=sys.stderr,
            )
        battles = report.battles
    else:
        from arena.cli.models import open_db

        opts = LeaderboardOptions(style_control=args.style_control, category=args.category)
        battles, left_out = load_votes(open_db(), opts, ranking_config(load_settings()).hygiene)
        if any(left_out.values()):
            print(f"left out by vote hygiene: {left_out}", file=sys.stderr)
    lb = compute_leaderboard(
        battles,
        ci=args.ci,
        rounds=args.rounds,
        seed=args.seed,
        style_control=args.style_control,
        anchor=_anchor(args.anchor),
        min_battles=load_settings().min_battles,
    )
    lb = dataclasses.replace(lb, category=args.category)
    render = {"table": to_table, "csv": to_csv, "markdown": to_markdown}.get(args.format)
    text = render(lb) if render else json.dumps(to_json_dict(lb), indent=2) + "\n"
    sys.stdout.write(text)
    return 0


def _export(args: argparse.Namespace) -> int:
    from arena.admin.battlefiles import export_battles
    from arena.cli.models import open_db

    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        n = export_battles(open_db(), out, secret=_secret())
    finally:
        if args.out:
            out.close()
    print(f"exported {n} battles" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _secret() -> str:
    from arena.cli.models import open_db
    from arena.store.secret import shared_secret

    return shared_secret(open_db(), load_settings())


def _import(args: argparse.Namespace) -> int:
    from arena.admin.battlefiles import import_battles
    from arena.cli.models import open_db

    if not Path(args.file).is_file():
        raise ValueError(f"no such file: {args.file}")
    report = import_battles(open_db(), args.file, strict=args.strict)
    for no, reason in report.rejected:
        print(f"{args.file}:{no}: rejected: {reason}", file=sys.stderr)
    if args.strict and report.rejected:
        print("nothing imported (--strict and some records were rejected)", file=sys.stderr)
        return 1
    print(report.summary())
    return 1 if report.rejected else 0


def register(sub: Any) -> None:
    """Add `leaderboard` and `battles` to the CLI."""
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
    p.set_defaults(func=_leaderboard)

    battles = sub.add_parser("battles", help="export or import battle files")
    bsub = battles.add_subparsers(dest="battles_command", required=True)
    e = bsub.add_parser("export", help="write every voted battle as JSON Lines")
    e.add_argument("--out", help="file to write (default: standard output)")
    e.set_defaults(func=_export)
    i = bsub.add_parser("import", help="import a battle file (JSON Lines or a JSON array)")
    i.add_argument("file")
    i.add_argument("--strict", action="store_true", help="import nothing if any record is bad")
    i.set_defaults(func=_import)
