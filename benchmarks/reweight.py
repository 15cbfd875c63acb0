"""Inverse pair-frequency reweighting: our fit against LMArena's `arena-rank` on the same battles.

Usage: python benchmarks/reweight.py [--models 20] [--battles 200000] [--arena-rank PYTHON]

Battles are drawn with very unequal pair frequencies (a few pairs meet far more often), so the
reweighted and plain fits differ; both are compared with arena-rank's (`reweighted=True`).
arena-rank runs in its own virtual environment (see benchmarks/arena_rank_runner.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402

from ratings import Battles  # noqa: E402
from ratings.preliminary import compute_listed  # noqa: E402


def skewed(m: int, n: int, seed: int = 0) -> Battles:
    """Battles with ~20% ties where pair (i, j) is drawn in proportion to 1 / (1 + |i - j|)^2."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, 0.7, m)
    i, j = np.triu_indices(m, 1)
    p_pair = 1.0 / (1.0 + np.abs(i - j)) ** 2
    pick = rng.choice(len(i), size=n, p=p_pair / p_pair.sum())
    flip = rng.random(n) < 0.5
    a = np.where(flip, j[pick], i[pick])
    b = np.where(flip, i[pick], j[pick])
    p = 1.0 / (1.0 + np.exp(-(s[a] - s[b])))
    u = rng.random(n)
    o = np.where(u < p - 0.1, 0, np.where(u < p + 0.1, 2, 1))
    return Battles.from_arrays([f"m{k}" for k in range(m)], a, b, o)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--battles", type=int, default=200_000)
    ap.add_argument("--arena-rank", default="/tmp/arena-rank-venv/bin/python")
    args = ap.parse_args()
    b = skewed(args.models, args.battles)
    t0 = time.perf_counter()
    ours = compute_listed(b, reweight=True, listing_threshold=0)
    t_ours = time.perf_counter() - t0
    plain = compute_listed(b, listing_threshold=0)
    r_ours = {r.model: r.rating for r in ours.models}
    h_ours = {r.model: (r.ci_upper - r.ci_lower) / 2 for r in ours.models}
    r_plain = {r.model: r.rating for r in plain.models}
    shift = max(abs(r_ours[k] - r_plain[k]) for k in r_ours)
    print(
        f"{args.models} models, {args.battles:,} battles: ours (reweighted) {t_ours:.3f}s; "
        f"reweighting moves a rating by up to {shift:.1f} points"
    )
    if not Path(args.arena_rank).exists():
        print(
            f"arena-rank not found at {args.arena_rank}: python3 -m venv /tmp/arena-rank-venv && "
            "/tmp/arena-rank-venv/bin/pip install arena-rank==0.1.1"
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "battles.npz"
        np.savez(
            path, model_a=b.model_a, model_b=b.model_b, outcome=b.outcome, names=np.asarray(b.names)
        )
        t0 = time.perf_counter()
        out = subprocess.run(
            [args.arena_rank, str(_HERE / "arena_rank_runner.py"), str(path), "--reweighted"],
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        t_theirs = time.perf_counter() - t0
    theirs = json.loads(out.stdout)
    r_theirs = theirs["ratings"]
    mean = np.mean(list(r_theirs.values()))
    diffs = [abs(r_ours[k] - (r_theirs[k] - mean + 1000.0)) for k in r_ours]
    widths = [h_ours[k] / theirs["halfwidth"][k] - 1 for k in r_ours]
    print(
        f"arena-rank {theirs['version']} (reweighted): {t_theirs:.1f}s with start-up; "
        f"fit+sandwich {theirs['timings']['fit_sandwich_2']:.3f}s warm"
    )
    print(
        f"max |rating difference| {max(diffs):.3f} points; interval half-width ratio "
        f"ours/theirs - 1 from {min(widths):+.2%} to {max(widths):+.2%}"
    )


if __name__ == "__main__":
    main()
