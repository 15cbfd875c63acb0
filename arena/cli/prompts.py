"""`arena prompts …`: import a prompt set, run it (every model answers, judges compare), export it.

`run` is resumable: run the same command again after a crash and it asks only for what is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any


def _import(args: argparse.Namespace) -> int:
    from arena.cli.common import database
    from arena.judges.promptsets import import_set, parse_prompts

    path = Path(args.file)
    text = sys.stdin.read() if args.file == "-" else path.read_text("utf-8")
    prompts = parse_prompts(text)
    name = args.name or path.stem
    with database() as engine:
        n = import_set(engine, name, prompts)
    print(f"imported {n} prompts as set {name!r}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from arena.cli.common import database
    from arena.judges.promptsets import list_sets

    with database(read_only=True) as engine:
        sets = list_sets(engine)
    if not sets:
        print("no prompt sets; import one with `arena prompts import FILE`")
    for s in sets:
        print(f"{s.name}  {s.prompts} prompts, {s.answers} answers, {s.judgements} judgements")
    return 0


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    from tqdm import tqdm

    from arena.cli.common import database, secret
    from arena.core.settings import load_settings
    from arena.judges.calls import Callers
    from arena.judges.promptrun import (
        RunReport,
        endpoints_named,
        enqueue_pairs,
        generate,
        judge_pairs,
        missing_answers,
    )
    from arena.judges.promptsets import find_set
    from arena.judges.queue import active_judges
    from arena.store.keys import make_decrypt

    settings = load_settings()
    names = _names(args.models)
    if len(names) < 2:
        raise ValueError("--models needs at least two model names, e.g. --models a,b")
    with database(settings) as engine:
        set_id, items = find_set(engine, args.set)
        models = endpoints_named(engine, names)
        judges = (
            endpoints_named(engine, _names(args.judges)) if args.judges else active_judges(engine)
        )
        callers = Callers(
            settings.timeouts,
            default_max_tokens=settings.default_max_tokens,
            decrypt=make_decrypt(secret(engine, settings)),
            max_chars=settings.max_answer_chars,
        )
        report = RunReport()
        todo = missing_answers(engine, items, models)
        report.answers_kept = len(items) * len(models) - len(todo)
        bar = tqdm(
            total=len(items) * len(models),
            initial=report.answers_kept,
            desc="answers",
            unit="answer",
            file=sys.stderr,
            disable=args.no_progress,
        )

        async def work() -> None:
            try:
                await generate(
                    engine,
                    callers,
                    todo,
                    concurrency=args.concurrency,
                    report=report,
                    progress=bar.update,
                )
                bar.close()
                if report.answers_failed or not judges:
                    return
                n = enqueue_pairs(engine, items, models, judges, all_pairs_max=args.all_pairs_max)
                print(f"judging: {n} judge calls in the design (both orders)", file=sys.stderr)
                rules = dataclasses.replace(settings.judging, concurrency=args.concurrency)
                await judge_pairs(engine, callers, rules, judges)
            finally:
                await callers.close()

        asyncio.run(work())
        print(
            f"answers: {report.answers_new} new, {report.answers_kept} already stored, "
            f"{report.answers_failed} failed; tokens: {report.prompt_tokens} in, "
            f"{report.completion_tokens} out",
            file=sys.stderr,
        )
        for error in report.errors[:20]:
            print(f"  {error}", file=sys.stderr)
        if report.answers_failed:
            print("some answers failed: run the same command again to retry them", file=sys.stderr)
            return 1
        if not judges:
            print("no judges: answers stored; add --judges or a judge endpoint", file=sys.stderr)
            return 0
        return _print_board(engine, set_id, [j.id or 0 for j in judges], args.format)


def set_leaderboard(engine: Any, set_id: int, judges: list[int] | None, weights: Any) -> Any:
    """The Bradley-Terry leaderboard of a set's verdicts (strong ones weighted)."""
    import dataclasses

    import numpy as np

    from arena.judges.promptrun import set_battles
    from ratings import Battles, compute_leaderboard

    records = set_battles(engine, set_id, weights, judges)
    battles = Battles.from_records((r["model_a"], r["model_b"], r["winner"]) for r in records)
    battles = dataclasses.replace(battles, weights=np.array([r["weight"] for r in records]))
    return compute_leaderboard(battles, min_battles=0)


def _print_board(engine: Any, set_id: int, judges: list[int], fmt: str) -> int:
    from arena.core.settings import load_settings
    from ratings.formats import to_csv, to_json_dict, to_markdown, to_table

    lb = set_leaderboard(engine, set_id, judges, load_settings().judge_weights)
    render = {"table": to_table, "csv": to_csv, "markdown": to_markdown}.get(fmt)
    sys.stdout.write(render(lb) if render else json.dumps(to_json_dict(lb), indent=2) + "\n")
    return 0


def _export(args: argparse.Namespace) -> int:
    from arena.cli.common import database
    from arena.core.settings import load_settings
    from arena.judges.promptrun import set_battles
    from arena.judges.promptsets import find_set

    with database(read_only=True) as engine:
        set_id, _ = find_set(engine, args.set)
        records = set_battles(engine, set_id, load_settings().judge_weights)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"exported {len(records)} verdicts to {args.out}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add `prompts` with its subcommands to the CLI."""
    prompts = sub.add_parser("prompts", help="prompt sets: every model answers, judges compare")
    psub = prompts.add_subparsers(dest="prompts_command", required=True)
    p = psub.add_parser("import", help="import a prompt set (JSON Lines or one prompt a line)")
    p.add_argument("file", help='a file: {"prompt": …, "category": …} lines, or plain text')
    p.add_argument("--name", help="the set's name (default: the file's name)")
    p.set_defaults(func=_import)
    p = psub.add_parser("list", help="list the prompt sets")
    p.set_defaults(func=_list)
    p = psub.add_parser("run", help="answer every prompt with every model, then judge pairs")
    p.add_argument("set")
    p.add_argument("--models", required=True, help="comma-separated model names")
    p.add_argument("--judges", help="comma-separated judge names (default: every judge)")
    p.add_argument("--concurrency", type=int, default=4, help="calls in flight at once")
    p.add_argument(
        "--all-pairs-max",
        type=int,
        default=8,
        help="judge all pairs up to this many models; beyond, a balanced design",
    )
    p.add_argument("--format", choices=["table", "json", "csv", "markdown"], default="table")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
    p = psub.add_parser("export", help="a set's verdicts as a battle file (JSON Lines)")
    p.add_argument("set")
    p.add_argument("--out", help="a file (default: standard output)")
    p.set_defaults(func=_export)
