"""A million votes: import, export, cold refit and page time, each beside its floor and target.

Writes a battle file of synthetic votes drawn from known strengths, parses it with the json
module (the floor of reading it), imports it into a fresh SQLite database (or `--database-url`),
exports it, times a bare SELECT of the rows a refit reads (the floor of a refit), ranks the file
without a database, then a cold recomputation (read every counted vote, vote hygiene, fit,
sandwich): the first one ever, which reads the vote rows and writes the vote blocks, and one by
a new worker once the blocks are built; and the leaderboard page and API served by a real arena
server. Wall and CPU time:
on a shared machine CPU time is the steadier figure.
Run: `python benchmarks/leaderboard.py [--models 100] [--votes 1000000]`.
"""

from __future__ import annotations

import argparse
import resource
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from arena.admin.battlefiles import export_battles, import_battles
from arena.core.settings import Settings
from arena.store.engine import make_engine, migrate
from arena.store.tables import Battle, Vote, utcnow
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions, ranking_config
from arena.votes.cache import VoteCache
from benchmarks._harness import arena_process, percentile
from benchmarks.floors import bare_select, export_select, json_floor
from ratings import compute_leaderboard, load_battles

WINNERS = ["model_a", "model_b", "tie", "tie (bothbad)"]


def write_file(path: Path, models: int, votes: int, seed: int = 0) -> None:
    """A battle file of `votes` Bradley-Terry battles (about 25% ties) with style metadata,
    from about votes/20 voters, as a public LMArena release looks without conversations."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, models)
    encode = msgspec.json.Encoder().encode
    with path.open("wb") as f:
        for start in range(0, votes, 50_000):
            n = min(50_000, votes - start)
            a = rng.integers(0, models, n)
            b = (a + rng.integers(1, models, n)) % models
            p = 1 / (1 + np.exp(strength[b] - strength[a]))
            u = rng.random(n)
            outcome = np.where(u < 0.25, 2 + (u < 0.05), np.where(rng.random(n) < p, 0, 1))
            style = rng.integers(0, 400, (n, 8)).tolist()
            voters = rng.integers(0, votes // 20 + 1, n).tolist()
            for k in range(n):
                sa, sb = style[k][:4], style[k][4:]
                meta = {}
                for side, (tokens, headers, lists, bold) in (("a", sa), ("b", sb)):
                    meta[f"sum_assistant_{side}_tokens"] = tokens
                    meta[f"header_count_{side}"] = {"h1": headers}
                    meta[f"list_count_{side}"] = {"ordered": 0, "unordered": lists}
                    meta[f"bold_count_{side}"] = {"**": bold, "__": 0}
                record = {
                    "question_id": f"{start + k:016x}",
                    "model_a": f"model-{a[k]:03d}",
                    "model_b": f"model-{b[k]:03d}",
                    "winner": WINNERS[outcome[k]],
                    "judge": f"{voters[k]:032x}",
                    "anony": True,
                    "tstamp": 1.7e9 + start + k,
                    "conv_metadata": meta,
                }
                f.write(encode(record) + b"\n")


def add_votes(engine: Any, n: int) -> None:
    """n more votes between the first two models."""
    now = utcnow()
    with engine.begin() as conn:
        for _ in range(n):
            battle = secrets.token_hex(12)
            conn.execute(
                insert(Battle).values(
                    id=battle,
                    voter_id="f" * 32,
                    model_a_id=1,
                    model_b_id=2,
                    status="voted",
                    anony=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                insert(Vote).values(
                    battle_id=battle,
                    winner="model_a",
                    voter_id="f" * 32,
                    model_a_id=1,
                    model_b_id=2,
                    anony=True,
                    leaked=False,
                    excluded=False,
                    counted=True,
                    categories=[],
                    created_at=now,
                )
            )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Clock:
    """Wall and CPU seconds of a step (the machine may be shared: CPU time is the steadier one)."""

    def __enter__(self) -> Clock:
        self.t, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.t, time.process_time() - self.c

    def __str__(self) -> str:
        return f"{self.wall:6.2f} s (cpu {self.cpu:5.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--views", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/leaderboard.db"
        path = Path(tmp) / "battles.jsonl"
        write_file(path, args.models, args.votes)
        n = args.votes
        print(f"leaderboard: {args.models} models, {n:,} battles, {url.split(':')[0]}")
        with Clock() as floor:
            json_floor(path)
        print(f"  {'floor: json-module parse':<30} {floor}  (of the same file)")
        engine = make_engine(url)
        migrate(engine)
        with Clock() as imp:
            report = import_battles(engine, path)
        target = 50_000 if url.startswith("sqlite") else 30_000
        print(
            f"  {'arena battles import':<30} {imp}  {n / imp.wall:,.0f}/s "
            f"(cpu {n / imp.cpu:,.0f}/s; target {target:,}/s; {report.summary()[:40]})"
        )
        # Nothing before the import holds much (the file is written and parsed a line at a
        # time), so the peak so far is the import's.
        print(f"  {'peak RSS after the import':<30} {_peak_mib():,.0f} MiB  (target: under 1 GB)")
        out = Path(tmp) / "export.jsonl"
        with Clock() as export_floor:
            export_select(engine)
        print(f"  {'floor: bare SELECT, export':<30} {export_floor}  (the columns an export reads)")
        with Clock() as exp, out.open("w", encoding="utf-8") as f:
            exported = export_battles(engine, f, secret="benchmark-secret-key-0123456789abcdef")
        print(
            f"  {'arena battles export':<30} {exp}  {exported / exp.wall:,.0f}/s "
            f"(cpu {exported / exp.cpu:,.0f}/s; {exp.cpu / export_floor.cpu:.1f}x its floor in "
            f"cpu; target: at least the import's rate, {target:,}/s)"
        )
        config = ranking_config(Settings())
        floor_select = bare_select(engine)
        print(f"  {'floor: bare SELECT':<30} {floor_select:6.2f} s  (the rows a refit reads)")
        floor_style = bare_select(engine, style=True)
        print(f"  {'floor: bare SELECT, style':<30} {floor_style:6.2f} s  (and the style features)")
        with Clock() as from_file:
            compute_leaderboard(load_battles(path).battles)
        print(
            f"  {'ranking the file (no database)':<30} {from_file}  "
            f"({from_file.wall / floor.wall:.2f}x the json-module floor, cpu "
            f"{from_file.cpu / floor.cpu:.2f}x; target 1.5x)"
        )
        cache = VoteCache()
        plain, style = LeaderboardOptions(), LeaderboardOptions(style_control=True)
        # The first refit after the import reads the vote rows and writes the vote blocks; any
        # later worker that holds nothing reads the blocks (arena/votes/blocks.py). Both are
        # shown; before the style one, the blocks are deleted so that it is a first one too.
        for label, opts, goal in (
            ("first refit ever", plain, "reads rows, writes blocks"),
            ("first refit ever, style", style, "reads rows, writes blocks"),
            (
                "cold refit",
                plain,
                "a new worker, blocks built; target 1.5 s at 1M, and no slower than the file",
            ),
            ("cold refit, style control", style, "a new worker, blocks built; target 2.5 s at 1M"),
        ):
            if label.startswith("first"):
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM voteblock"))
            with Clock() as cold:
                payload = compute_payload(engine, opts, config)
            print(
                f"  {label:<30} {cold}  ({goal}; "
                f"{payload['leaderboard']['total_battles']:,} battles in the fit)"
            )
        compute_payload(engine, LeaderboardOptions(), config, cache)
        add_votes(engine, 1)
        with Clock() as warm:
            compute_payload(engine, LeaderboardOptions(), config, cache)
        print(f"  {'refit after one new vote':<30} {warm}  (warm vote cache: the refresher)")
        engine.dispose()
        print(f"  peak RSS of this process {_peak_mib():,.0f} MiB (all of the above)")
        with (
            arena_process("http://127.0.0.1:9/v1", {}, database_url=url) as (base, _proc),
            httpx.Client(base_url=base, timeout=120) as c,
        ):
            t = time.perf_counter()
            first = c.get("/leaderboard?category=english")
            print(
                f"  {'first page view, new board':<30} {time.perf_counter() - t:6.2f} s  "
                f"({'computing…' if 'Computing' in first.text else 'the board'}; never waits)"
            )
            for view in ("/leaderboard", "/leaderboard?show=all", "/api/leaderboard"):
                times = []
                for _ in range(args.views):
                    t = time.perf_counter()
                    c.get(view).raise_for_status()
                    times.append((time.perf_counter() - t) * 1000)
                print(
                    f"  {view:<30} from cache: p50 {percentile(times, 50):6.1f} ms  "
                    f"p99 {percentile(times, 99):6.1f} ms  mean {statistics.mean(times):6.1f} ms"
                )


if __name__ == "__main__":
    main()
