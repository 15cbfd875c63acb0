"""`arena categories list | retag`: the categories' battle counts, and re-tagging older votes."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from arena.cli.common import database


def _list(args: argparse.Namespace) -> int:
    from arena.votes.category_counts import category_counts

    with database(read_only=True) as engine:
        counts = category_counts(engine)
    print(f"{'all battles':<24}{counts['total_battles']:>10}")
    for c in counts["categories"]:
        print(f"{c['category']:<24}{c['battles']:>10}")
    return 0


def _retag(args: argparse.Namespace) -> int:
    import asyncio

    from tqdm import tqdm

    from arena.cli.common import secret
    from arena.core.settings import load_settings
    from arena.store.keys import make_decrypt
    from arena.votes.board_options import ranking_config
    from arena.votes.board_refresh import refresh_stale
    from arena.votes.retag import retag_llm, retag_rules
    from arena.votes.tagger_start import tagger_rules

    settings = load_settings()
    with database(settings) as engine, tqdm(unit="vote", desc="retag") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        if args.tagger == "rules":
            changed = retag_rules(
                engine,
                since=args.since,
                hard_threshold=settings.hard_prompt_rules_threshold,
                progress=progress,
            )
            bar.close()
            print(f"re-tagged with the rules: {changed} votes changed")
        else:
            from arena.votes.llm_tagger import tagger_call

            rules = tagger_rules(settings)
            if rules is None:
                raise ValueError("--tagger llm needs the category_tagger setting (an endpoint)")
            bar.unit, bar.desc = "prompt", "retag (llm)"
            call = tagger_call(engine, rules.name, settings, make_decrypt(secret(engine, settings)))

            async def run() -> tuple[int, int]:
                try:
                    return await retag_llm(engine, call, rules, since=args.since, progress=progress)
                finally:
                    await call.aclose()

            answered, failed = asyncio.run(run())
            bar.close()
            print(
                f"re-tagged with {rules.name}: {answered} prompts answered, {failed} kept the "
                "rules' tags (the tagger failed)"
            )
        # The boards people look at are recomputed now rather than on the next page view.
        refreshed = refresh_stale(engine, ranking_config(settings), lease=_lease())
    print(f"leaderboards refreshed: {refreshed}")
    return 0


def _lease() -> Any:
    from datetime import timedelta

    return timedelta(minutes=2)


def register(sub: Any) -> None:
    """Add `categories list | retag` to the CLI."""
    cats = sub.add_parser("categories", help="leaderboard categories: counts, re-tagging")
    csub = cats.add_subparsers(dest="categories_command", required=True)
    p = csub.add_parser("list", help="every category with its battle count")
    p.set_defaults(func=_list)
    p = csub.add_parser("retag", help="tag stored votes again (resumable)")
    p.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--tagger", choices=["rules", "llm"], default="rules")
    p.set_defaults(func=_retag)
