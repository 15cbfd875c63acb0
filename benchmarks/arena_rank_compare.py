"""LMArena's `arena-rank` beside ours, for benchmarks/ratings.py: the same battles fitted by both,
their times, ratings and interval widths printed side by side.

arena-rank pins jax and numpy, so it lives in its own virtual environment and runs in
benchmarks/arena_rank_runner.py under that environment's python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ratings import aggregate, compute_leaderboard_from_counts

DEFAULT_ARENA_PYTHON = Path("/tmp/arena-rank-venv/bin/python")
ARENA_RUNNER = Path(__file__).resolve().parent / "arena_rank_runner.py"
ARENA_TIMEOUT = 1800.0


class ArenaRank:
    """LMArena's `arena-rank`, run by benchmarks/arena_rank_runner.py under another python."""

    def __init__(self, python: str, max_battles: int, bootstrap: int) -> None:
        self.python, self.max_battles, self.bootstrap = python, max_battles, bootstrap

    def compare(
        self,
        a: np.ndarray,
        b: np.ndarray,
        o: np.ndarray,
        names: list[str],
        our_rounds_per_s: float | None,
    ) -> None:
        """Fit the same battles with arena-rank and print its figures next to ours."""
        n, m = len(o), len(names)
        if n > self.max_battles:
            print(
                f"  arena-rank: skipped at {n:,d} battles (> --arena-rank-max-battles "
                f"{self.max_battles:,d}; it needs minutes and GBs there)"
            )
            return
        # Ours, timed again outside tracemalloc (which taxes every numpy allocation).
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            lb = compute_leaderboard_from_counts(aggregate(a, b, o, m), names)
            best = min(best, time.perf_counter() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "battles.npz"
            np.savez(path, model_a=a, model_b=b, outcome=o, names=np.asarray(names))
            cmd = [self.python, str(ARENA_RUNNER), str(path), "--bootstrap", str(self.bootstrap)]
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=ARENA_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired:
                print(f"  arena-rank: no answer within {ARENA_TIMEOUT:.0f}s, skipped")
                return
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            print(f"  arena-rank: runner failed (exit {proc.returncode}): {tail}")
            return
        res = json.loads(proc.stdout)
        tm = res["timings"]
        ours = {r.model: r for r in lb.models}
        common = [k for k in names if k in ours and k in res["ratings"]]
        # Both use 400 * log10 (alpha = 400 / ln 10) with offset 1000, but arena-rank leaves the
        # gauge to its optimiser: centre both on the mean of the common models at 1000.
        ra = np.array([res["ratings"][k] for k in common])
        ro = np.array([ours[k].rating for k in common])
        ra, ro = ra - ra.mean() + 1000.0, ro - ro.mean() + 1000.0
        ha = np.array([res["halfwidth"][k] for k in common])
        ho = np.array([(ours[k].ci_upper - ours[k].ci_lower) / 2.0 for k in common])
        rel = ha / ho - 1.0
        theirs = tm["dataset"] + tm["fit_sandwich_1"]
        line = (
            f"  arena-rank {res['version']}: PairDataset {tm['dataset']:.2f}s + fit+sandwich "
            f"{tm['fit_sandwich_1']:.2f}s (cold JIT; again: {tm['fit_sandwich_2']:.2f}s) = "
            f"{theirs:.2f}s vs ours agg+fit+sandwich {best:.3f}s: {theirs / best:.0f}x | "
            f"max |Δrating| {np.max(np.abs(ra - ro)):.3f} pts | half-width rel. diff median "
            f"|{np.median(np.abs(rel)):.2%}| (signed {np.median(rel):+.2%}, max "
            f"|{np.max(np.abs(rel)):.2%}|)"
        )
        if "bootstrap" in tm:
            rounds = res["bootstrap_rounds"]
            line += f" | bootstrap x{rounds} {tm['bootstrap']:.1f}s"
            if our_rounds_per_s:
                line += f" (ours x{rounds} ~{rounds / our_rounds_per_s:.3f}s)"
        line += (
            f" | its DataFrame {tm['dataframe']:.2f}s, import {tm['import']:.1f}s, "
            f"peak RSS {res['peak_rss_mib']:.0f} MiB"
        )
        print(line)


def arena_rank_from_args(args: argparse.Namespace) -> ArenaRank | None:
    """The arena-rank comparison the options ask for, or None (with a note) to skip it."""
    python = args.arena_rank
    if python is None:
        if not DEFAULT_ARENA_PYTHON.exists():
            print(
                f"note: arena-rank comparison skipped: {DEFAULT_ARENA_PYTHON} does not exist "
                "(python3 -m venv /tmp/arena-rank-venv && "
                "/tmp/arena-rank-venv/bin/pip install arena-rank==0.1.1, or --arena-rank PYTHON)"
            )
            return None
        python = str(DEFAULT_ARENA_PYTHON)
    elif python in ("", "none"):
        return None
    elif not os.access(python, os.X_OK):
        print(f"note: arena-rank comparison skipped: {python} is not an executable")
        return None
    return ArenaRank(python, args.arena_rank_max_battles, args.arena_rank_bootstrap)
