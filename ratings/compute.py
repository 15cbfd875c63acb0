"""compute_leaderboard: Bradley-Terry ratings, intervals and ranks from battles or counts."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from ratings.battles import STYLE_FEATURES, TIE, Battles
from ratings.bootstrap import bootstrap
from ratings.contextual import battle_weights, collinear_features, style_rows
from ratings.counts import PairCounts, aggregate, model_stats
from ratings.design import Design, Outcomes, from_counts
from ratings.elo import online_elo
from ratings.graph import GraphInfo, analyse, gauge_basis
from ratings.leaderboard import Estimates, Leaderboard, assemble
from ratings.newton import fit, sandwich
from ratings.scale import transform

CI = Literal["sandwich", "bootstrap"]
Z95 = 1.959963984540054
#: Ridge (Gaussian prior sd 10 natural-log units ~ 1737 rating points) on the strengths of a
#: component where the MLE does not exist (a model, or group, without wins or without losses).
PRIOR_RIDGE = 0.01
#: Penalty on style coefficients: keeps the system positive definite, shrinks nothing measurable.
FEATURE_RIDGE = 1e-6


def compute_leaderboard(
    battles: Battles,
    *,
    ci: CI = "sandwich",
    rounds: int = 1000,
    seed: int = 0,
    style_control: bool = False,
    anchor: tuple[str, float] | None = None,
    min_battles: int = 30,
    drop_ties: bool = False,
    reweight: bool = False,
    elo_k: float | None = 4.0,
) -> Leaderboard:
    """Bradley-Terry leaderboard from battles (style control fits per battle; else via counts)."""
    warnings: list[str] = []
    if drop_ties:
        battles = battles.select(np.asarray(battles.outcome < TIE, dtype=np.bool_))
    if style_control:
        if battles.style is None:
            raise ValueError("style control needs style features (conv_metadata) in the battles")
        known = np.asarray(np.isfinite(battles.style).all(axis=(1, 2)), dtype=np.bool_)
        if not bool(known.all()):
            warnings.append(
                f"{int((~known).sum())} battles without style features were left out of the fit"
            )
            battles = battles.select(known)
    m = len(battles.names)
    elo = None
    if elo_k is not None:
        elo = online_elo(battles.model_a, battles.model_b, battles.outcome, m, k=elo_k)
    weights = battle_weights(battles, reweight=reweight and style_control)
    counts = aggregate(battles.model_a, battles.model_b, battles.outcome, m, battles.weights)
    if not style_control:
        return compute_leaderboard_from_counts(
            counts,
            battles.names,
            ci=ci,
            rounds=rounds,
            seed=seed,
            anchor=anchor,
            min_battles=min_battles,
            reweight=reweight,
            elo=elo,
            warnings=warnings,
        )
    d, o = style_rows(battles, weights)
    with threadpool_limits(limits=1, user_api="blas"):  # small dense solves: see newton.py
        dropped = _drop_collinear(d, battles.names, warnings)
    return _leaderboard(
        counts,
        battles.names,
        d,
        o,
        ci=ci,
        rounds=rounds,
        seed=seed,
        anchor=anchor,
        min_battles=min_battles,
        elo=elo,
        warnings=warnings,
        dropped=dropped,
    )


def _drop_collinear(d: Design, names: list[str], warnings: list[str]) -> frozenset[str]:
    """Zero the style features the models explain (their fit would be arbitrary), and say so."""
    dropped = set()
    for j, r2, model in collinear_features(d):
        feature = STYLE_FEATURES[j]
        d.z[:, j] = 0.0
        dropped.add(feature)
        who = f"coincides with model {names[model]!r}" if model is not None else "is collinear"
        warnings.append(
            f"style feature {feature!r} {who} (R² {r2:.3f} against the models and other"
            " features): it cannot be told apart from that model's strength, so it was left out"
            " of the style control fit (coefficient reported as 0, dropped)"
        )
    return frozenset(dropped)


def compute_leaderboard_from_counts(
    counts: PairCounts,
    names: list[str],
    *,
    ci: CI = "sandwich",
    rounds: int = 1000,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    min_battles: int = 30,
    drop_ties: bool = False,
    reweight: bool = False,
    elo: NDArray[np.float64] | None = None,
    warnings: list[str] | None = None,
) -> Leaderboard:
    """Bradley-Terry leaderboard from a per-pair count table; ``elo`` is an extra column."""
    if len(names) != counts.n_models:
        raise ValueError("names must have one entry per model id of the count table")
    if drop_ties:
        counts = counts.without_ties()
    if reweight:
        counts = counts.reweighted()
    d, o = from_counts(counts)
    return _leaderboard(
        counts,
        names,
        d,
        o,
        ci=ci,
        rounds=rounds,
        seed=seed,
        anchor=anchor,
        min_battles=min_battles,
        elo=elo,
        warnings=list(warnings or []),
    )


def _ridge(d: Design, graph: GraphInfo) -> NDArray[np.float64]:
    ridge = np.zeros(d.n_params)
    for c in np.unique(graph.component[graph.separated]):
        ridge[: d.n_models][graph.component == c] = PRIOR_RIDGE
    ridge[d.n_models :] = FEATURE_RIDGE
    return ridge


def _anchor_index(
    names: list[str], anchor: tuple[str, float] | None, ranked: NDArray[np.bool_]
) -> tuple[int, float] | None:
    if anchor is None:
        return None
    try:
        idx = names.index(anchor[0])
    except ValueError:
        raise ValueError(f"anchor model {anchor[0]!r} is unknown") from None
    if not ranked[idx]:
        raise ValueError(f"anchor model {anchor[0]!r} has no battles")
    return idx, float(anchor[1])


def _leaderboard(
    counts: PairCounts,
    names: list[str],
    d: Design,
    o: Outcomes,
    *,
    ci: CI,
    rounds: int,
    seed: int,
    anchor: tuple[str, float] | None,
    min_battles: int,
    elo: NDArray[np.float64] | None,
    warnings: list[str],
    dropped: frozenset[str] = frozenset(),
) -> Leaderboard:
    if ci not in ("sandwich", "bootstrap"):
        raise ValueError(f"ci must be 'sandwich' or 'bootstrap', not {ci!r}")
    stats = model_stats(counts)
    graph = analyse(counts, stats)
    ranked = stats.battles > 0
    anchor_idx = _anchor_index(names, anchor, ranked)
    m = d.n_models
    if counts.total == 0:
        warnings.append("no battles: the leaderboard is empty")
    if graph.n_components > 1:
        warnings.append(
            f"the comparison graph has {graph.n_components} connected components: ratings and"
            " ranks compare only within a component (see `component`); each is centred on its own"
        )
    if bool(graph.separated.any()):
        flagged = [names[k] for k in np.flatnonzero(graph.separated)]
        warnings.append(
            "the maximum-likelihood rating is infinite for "
            + ", ".join(flagged)
            + f" (no wins or no losses against the rest); a ridge prior ({PRIOR_RIDGE}) keeps"
            " them finite, they are flagged"
        )
    basis = gauge_basis(graph.component)
    ridge = _ridge(d, graph)
    t, offset = transform(graph.component, anchor_idx)
    coefs = None
    with threadpool_limits(limits=1, user_api="blas"):
        f = fit(d, o, basis=basis, ridge=ridge)
        if not f.converged:
            warnings.append(f"Newton did not converge in {f.iterations} iterations")
        rating = t @ f.params[:m] + offset
        if ci == "sandwich":
            cov = sandwich(d, o, f)
            se = np.sqrt(np.maximum(np.diagonal(t @ cov[:m, :m] @ t.T), 0.0))
            lower, upper = rating - Z95 * se, rating + Z95 * se
            gse = np.sqrt(np.maximum(np.diagonal(cov[m:, m:]), 0.0))
            glo, ghi = f.params[m:] - Z95 * gse, f.params[m:] + Z95 * gse
        else:
            reps = bootstrap(counts, d, o, f, basis=basis, ridge=ridge, rounds=rounds, seed=seed)
            rr = reps[:, :m] @ t.T + offset
            lower, upper = _percentiles(rr, rating)
            glo, ghi = _percentiles(reps[:, m:], f.params[m:])
    if d.z.shape[1]:
        coefs = {
            name: {
                "coef": float(f.params[m + i]),
                "ci_lower": float(glo[i]),
                "ci_upper": float(ghi[i]),
                "dropped": name in dropped,
            }
            for i, name in enumerate(STYLE_FEATURES)
        }
    est = Estimates(rating, lower, upper)
    return assemble(
        names=names,
        counts=counts,
        stats=stats,
        graph=graph,
        est=est,
        ci=ci,
        style_control=coefs is not None,
        min_battles=min_battles,
        elo=elo,
        warnings=warnings,
        style_coefficients=coefs,
    )


def _percentiles(
    reps: NDArray[np.float64], point: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if reps.shape[0] == 0:
        return point.copy(), point.copy()
    lo, hi = np.percentile(reps, [2.5, 97.5], axis=0)
    return lo, hi
