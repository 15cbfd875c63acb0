"""Benchmark of the ratings engine: aggregation, fit, sandwich, bootstrap, and file loading.

Usage: python benchmarks/ratings.py [--sizes small,medium,large] [--rounds 1000] [--lines 1000000]
       [--arena-rank PYTHON] [--arena-rank-max-battles 1000000] [--arena-rank-bootstrap 20]

Where LMArena's `arena-rank` is installed (in its own virtual environment: it pins jax and numpy;
see benchmarks/arena_rank_runner.py), each size is also fitted by it on the same battles and the
time, ratings and interval widths are printed side by side with ours.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

# This script shares its name with the package it measures: when run as a file, its own folder
# comes first on sys.path and would shadow `ratings`. Put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from benchmarks.arena_rank_compare import (  # noqa: E402
    DEFAULT_ARENA_PYTHON,
    ArenaRank,
    arena_rank_from_args,
)
from ratings import aggregate, compute_leaderboard, compute_leaderboard_from_counts, load_battles  # noqa: E402
from ratings.bootstrap import bootstrap, bootstrap_counts  # noqa: E402
from ratings.compute import _ridge  # noqa: E402
from ratings.counts import model_stats  # noqa: E402
from ratings.design import from_counts  # noqa: E402
from ratings.formats import to_table  # noqa: E402
from ratings.graph import analyse, gauge_basis  # noqa: E402
from ratings.newton import fit, sandwich  # noqa: E402

SIZES = {"small": (20, 100_000), "medium": (100, 1_000_000), "large": (300, 10_000_000)}


@contextlib.contextmanager
def timed(label: str, out: dict[str, float]) -> Iterator[None]:
    t = time.perf_counter()
    yield
    out[label] = time.perf_counter() - t


def synthetic(m: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer battle arrays with ~30% ties, consistent with ties-as-half BT."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, 1.0, m)
    a = rng.integers(0, m, n, dtype=np.int32)
    b = ((a + rng.integers(1, m, n, dtype=np.int32)) % m).astype(np.int32)
    p = 1.0 / (1.0 + np.exp(-(s[a] - s[b])))
    tie = 0.6 * np.minimum(p, 1.0 - p)
    u = rng.random(n)
    out = np.where(u < p - tie / 2, 0, np.where(u < p + tie / 2, 2, 1)).astype(np.int8)
    return a, b, out


def _widths(reps: np.ndarray) -> np.ndarray:
    """95% percentile interval widths of centred bootstrap replicates."""
    lo, hi = np.percentile(reps - reps.mean(axis=1, keepdims=True), [2.5, 97.5], axis=0)
    return np.asarray(hi - lo)


def bench_size(name: str, rounds: int, arena: ArenaRank | None = None) -> None:
    m, n = SIZES[name]
    a, b, o = synthetic(m, n)
    t: dict[str, float] = {}
    tracemalloc.start()
    with timed("aggregate", t):
        counts = aggregate(a, b, o, m)
    d, outc = from_counts(counts)
    stats = model_stats(counts)
    graph = analyse(counts, stats)
    basis, ridge = gauge_basis(graph.component), _ridge(d, graph)
    with threadpool_limits(limits=1, user_api="blas"):
        with timed("fit", t):
            f = fit(d, outc, basis=basis, ridge=ridge)
        with timed("sandwich", t):
            sandwich(d, outc, f)
        kw = {"basis": basis, "ridge": ridge, "rounds": rounds}
        with timed("bootstrap", t):
            fast = bootstrap(counts, d, outc, f, seed=0, **kw)  # type: ignore[arg-type]
        # The anchor: exact multinomial resampling of the count table and a refit per round.
        with timed("exact", t):
            exact = bootstrap_counts(counts, d, f, seed=1, **kw)  # type: ignore[arg-type]
    width = _widths(fast) / np.maximum(_widths(exact), 1e-300)
    names = [f"m{k}" for k in range(m)]
    with timed("leaderboard", t):
        counts2 = aggregate(a, b, o, m)
        compute_leaderboard_from_counts(counts2, names)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{name:6s} models={m:4d} battles={n:>10,d} pairs={len(counts.i):>6,d} | "
        f"aggregate {t['aggregate']:.3f}s  fit {t['fit']:.3f}s ({f.iterations} it)  "
        f"sandwich {t['sandwich']:.3f}s  agg+fit+sandwich {t['leaderboard']:.3f}s  "
        f"bootstrap x{rounds} {t['bootstrap']:.3f}s (target <1 s at large; exact refits "
        f"{t['exact']:.2f}s, interval widths {width.mean():.3f}x theirs, "
        f"{width.min():.2f}-{width.max():.2f})  "
        f"peak traced {peak / 2**20:.0f} MiB"
    )
    if arena is not None:
        arena.compare(a, b, o, names, rounds / t["bootstrap"] if t["bootstrap"] else None)


def bench_file(lines: int) -> None:
    rng = random.Random(0)
    models = [f"model-{k:03d}" for k in range(100)]
    strength = {name: rng.gauss(0.0, 1.0) for name in models}
    winners = ("model_a", "model_b", "tie", "tie (bothbad)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "battles.jsonl"
        t0 = time.perf_counter()
        with open(path, "w", encoding="utf-8") as f:
            for k in range(lines):
                ma, mb = rng.sample(models, 2)
                p = 1.0 / (1.0 + np.exp(strength[mb] - strength[ma]))
                u = rng.random()
                w = winners[0] if u < p - 0.1 else winners[1] if u > p + 0.1 else winners[k % 2 + 2]
                rec = {
                    "question_id": f"{k:016x}",
                    "model_a": ma,
                    "model_b": mb,
                    "winner": w,
                    "judge": "arena_user_0001",
                    "turn": 1,
                    "anony": True,
                    "language": "English",
                    "tstamp": 1.7e9 + k,
                }
                f.write(json.dumps(rec) + "\n")
        t_write = time.perf_counter() - t0
        size = path.stat().st_size
        t0, c0 = time.perf_counter(), time.process_time()
        with open(path, encoding="utf-8") as f:
            for line in f:
                json.loads(line)
        t_floor, c_floor = time.perf_counter() - t0, time.process_time() - c0
        t_cli, c_cli = cli_seconds(path)
        t0, c0 = time.perf_counter(), time.process_time()
        rep = load_battles(path)
        c_load = time.process_time() - c0
        t_load = time.perf_counter() - t0
        lb = compute_leaderboard(rep.battles)
        t_fit = time.perf_counter() - t0 - t_load
        buf = io.StringIO()
        buf.write(to_table(lb))
        t_all = time.perf_counter() - t0
    print(
        f"jsonl  {lines:,d} lines ({size / 2**20:.0f} MiB): write {t_write:.2f}s | floor: "
        f"json-module parse {t_floor:.2f}s (cpu {c_floor:.2f}s) | load_battles {t_load:.2f}s "
        f"(cpu {c_load:.2f}s)"
        f"  compute_leaderboard (with Elo) {t_fit:.2f}s  load+compute+print {t_all:.2f}s | "
        f"`arena leaderboard --battles` {t_cli:.2f}s (cpu {c_cli:.2f}s) = "
        f"{t_cli / t_floor:.2f}x the floor (cpu {c_cli / c_floor:.2f}x; target 1.5x)"
    )


def cli_seconds(path: Path) -> tuple[float, float]:
    """Wall and CPU time of `arena leaderboard --battles FILE` in a fresh interpreter, imports
    included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "arena", "leaderboard", "--battles", str(path)],
        cwd=_HERE.parent,
        env={**os.environ, "ARENA_CONFIG": os.devnull + ".toml"},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def main() -> None:
    """Run the selected benchmarks and print their figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="small,medium,large")
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=1_000_000, help="0 skips the file benchmark")
    ap.add_argument(
        "--arena-rank",
        metavar="PYTHON",
        default=None,
        help=f"python of a venv with arena-rank (default: {DEFAULT_ARENA_PYTHON} if it exists;"
        " 'none' skips)",
    )
    ap.add_argument(
        "--arena-rank-max-battles",
        type=int,
        default=1_000_000,
        help="skip the arena-rank comparison above this many battles",
    )
    ap.add_argument(
        "--arena-rank-bootstrap",
        type=int,
        default=20,
        help="arena-rank bootstrap rounds (0: none)",
    )
    args = ap.parse_args()
    arena = arena_rank_from_args(args)
    for name in args.sizes.split(","):
        bench_size(name.strip(), args.rounds, arena)
    if args.lines:
        bench_file(args.lines)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
