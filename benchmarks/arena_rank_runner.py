"""Fit LMArena's `arena-rank` on battles from an .npz file; print one JSON object on stdout.

Run it with the python of a separate virtual environment holding ``arena-rank==0.1.1`` (it pins
jax and numpy versions the project does not use), e.g.:

    /tmp/arena-rank-venv/bin/python benchmarks/arena_rank_runner.py battles.npz [--bootstrap 20]

The .npz holds integer arrays ``model_a``, ``model_b``, ``outcome`` (0 = a wins, 1 = b wins,
2 = tie, 3 = tie (bothbad)) and ``names`` (model names, indexed by the ids). The JSON holds the
timings in seconds, the rating per model name (arena-rank's own scale: 400 * log10, offset 1000,
not re-centred) and the sandwich (CLT) interval half-width per model; with ``--bootstrap N`` also
the bootstrap percentile half-widths.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import multiprocessing as mp
import resource
import sys
import time

# arena-rank's labels. It maps any other label to a tie silently, so we only ever pass these.
WINNERS = ("model_a", "model_b", "tie", "both_bad")


def main() -> None:
    """Read the battles, fit arena-rank twice (cold, warm), optionally bootstrap, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("npz")
    ap.add_argument("--bootstrap", type=int, default=0, help="bootstrap rounds (0: none)")
    ap.add_argument("--jobs", type=int, default=-1, help="bootstrap worker processes")
    ap.add_argument("--reweighted", action="store_true", help="inverse pair-frequency weights")
    args = ap.parse_args()
    # Its bootstrap uses a multiprocessing Pool; under the default "fork" it hangs (JAX threads).
    mp.set_start_method("spawn", force=True)

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from arena_rank.models.bradley_terry import BradleyTerry  # switches JAX to 64-bit
    from arena_rank.utils.data_utils import PairDataset

    t["import"] = time.perf_counter() - t0

    with np.load(args.npz, allow_pickle=False) as z:
        a, b, o = z["model_a"], z["model_b"], z["outcome"]
        names = np.asarray(z["names"]).astype(str)
    if o.size and (int(o.min()) < 0 or int(o.max()) >= len(WINNERS)):
        sys.exit("outcome codes must be 0..3")

    # (a) input: the DataFrame arena-rank expects (model names, winner labels), then its dataset.
    t0 = time.perf_counter()
    df = pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": np.asarray(WINNERS)[o]})
    t["dataframe"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    dataset = PairDataset.from_pandas(df, reweighted=args.reweighted)
    dataset.counts.block_until_ready()
    t["dataset"] = time.perf_counter() - t0
    del df

    def run(**kw: object) -> dict:
        model = BradleyTerry(n_competitors=len(dataset.competitors))
        res = model.compute_ratings_and_cis(dataset, **kw)
        res["ratings"].block_until_ready()
        return res

    # (b) first fit + sandwich, JIT compilation included; (c) the same again.
    t0 = time.perf_counter()
    res = run(ci_method="sandwich")
    t["fit_sandwich_1"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res2 = run(ci_method="sandwich")
    t["fit_sandwich_2"] = time.perf_counter() - t0

    comp = list(dataset.competitors)
    rating = np.asarray(res["ratings"], dtype=float)
    half = (np.asarray(res["rating_upper"]) - np.asarray(res["rating_lower"])) / 2.0
    out: dict = {
        "version": importlib.metadata.version("arena-rank"),
        "n_battles": int(o.size),
        "n_rows": int(dataset.counts.shape[0]),
        "ratings": dict(zip(comp, rating.tolist(), strict=True)),
        "halfwidth": dict(zip(comp, half.tolist(), strict=True)),
        "refit_max_abs_diff": float(np.max(np.abs(np.asarray(res2["ratings"]) - rating))),
    }

    # (d) bootstrap, if asked for.
    if args.bootstrap > 0:
        t0 = time.perf_counter()
        boot = run(ci_method="bootstrap", num_bootstrap=args.bootstrap, n_jobs=args.jobs)
        t["bootstrap"] = time.perf_counter() - t0
        bhalf = (np.asarray(boot["rating_upper"]) - np.asarray(boot["rating_lower"])) / 2.0
        out["bootstrap_rounds"] = args.bootstrap
        out["bootstrap_halfwidth"] = dict(zip(comp, bhalf.tolist(), strict=True))

    out["timings"] = t
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
