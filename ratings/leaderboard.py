"""The leaderboard result: one row per ranked model plus matrices, in best-first order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from ratings.counts import ModelStats, PairCounts, pair_matrices
from ratings.graph import GraphInfo
from ratings.spread import rank_lower_bounds


@dataclass
class ModelRating:
    """One leaderboard row; the first twelve fields are the contract's JSON keys."""

    model: str
    rating: float
    ci_lower: float
    ci_upper: float
    rank: int
    rank_ub: int
    battles: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    preliminary: bool
    elo: float | None = None
    component: int = 0
    flagged: str | None = None
    #: The worst rank compatible with the intervals (with ``rank_ub``, the rank spread).
    rank_lb: int = 0


@dataclass
class Leaderboard:
    """Ratings of every model with at least one battle, best first (grouped by component)."""

    total_battles: int
    ci: str
    style_control: bool
    models: list[ModelRating]
    names: list[str]
    win_rate_matrix: NDArray[np.float64]
    predicted_matrix: NDArray[np.float64]
    count_matrix: NDArray[np.float64]
    style_coefficients: dict[str, dict[str, float]] | None = None
    warnings: list[str] = field(default_factory=list)
    method: str = "bt"
    category: str | None = None
    #: How ties and "both bad" counted: "half" (half a win each) or "drop" (left out).
    ties: str = "half"
    #: Whether battles were weighted by inverse pair frequency.
    reweighted: bool = False
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )


@dataclass(frozen=True)
class Estimates:
    """Ratings and 95% bounds per model id (rating scale), before sorting."""

    rating: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]


def rank_upper_bounds(
    lower: NDArray[np.float64], upper: NDArray[np.float64], group: NDArray[np.intp]
) -> NDArray[np.int64]:
    """1 + the number of models in the same group whose lower bound exceeds this upper bound."""
    better = (lower[None, :] > upper[:, None]) & (group[None, :] == group[:, None])
    out: NDArray[np.int64] = 1 + better.sum(axis=1).astype(np.int64)
    return out


def assemble(
    *,
    names: list[str],
    counts: PairCounts,
    stats: ModelStats,
    graph: GraphInfo,
    est: Estimates,
    ci: str,
    style_control: bool,
    min_battles: int,
    elo: NDArray[np.float64] | None,
    warnings: list[str],
    style_coefficients: dict[str, dict[str, float]] | None = None,
) -> Leaderboard:
    """Sort ranked models (component, then rating) and build rows and matrices."""
    ranked = np.flatnonzero(stats.battles > 0)
    comp = graph.component
    order = ranked[np.lexsort((-est.rating[ranked], comp[ranked]))]
    rank = np.empty(len(order), dtype=np.int64)
    for c in np.unique(comp[order]):
        pos = np.flatnonzero(comp[order] == c)
        rank[pos] = np.arange(1, len(pos) + 1)
    rank_ub = rank_upper_bounds(est.lower[order], est.upper[order], comp[order])
    rank_lb = rank_lower_bounds(est.lower[order], est.upper[order], comp[order])
    win_rate = stats.win_rate
    rows = [
        ModelRating(
            model=names[k],
            rating=float(est.rating[k]),
            ci_lower=float(est.lower[k]),
            ci_upper=float(est.upper[k]),
            rank=int(rank[pos]),
            rank_ub=int(rank_ub[pos]),
            battles=int(stats.battles[k]),
            wins=int(stats.wins[k]),
            losses=int(stats.losses[k]),
            ties=int(stats.ties[k]),
            win_rate=float(win_rate[k]),
            preliminary=bool(stats.battles[k] < min_battles),
            elo=None if elo is None else float(elo[k]),
            component=int(comp[k]),
            flagged=graph.flags[k],
            rank_lb=int(rank_lb[pos]),
        )
        for pos, k in enumerate(order)
    ]
    count_m, rate_m = pair_matrices(counts, order)
    r = est.rating[order]
    predicted = 1.0 / (1.0 + 10.0 ** ((r[None, :] - r[:, None]) / 400.0))
    return Leaderboard(
        total_battles=counts.total,
        ci=ci,
        style_control=style_control,
        models=rows,
        names=[names[k] for k in order],
        win_rate_matrix=rate_m,
        predicted_matrix=predicted,
        count_matrix=count_m,
        style_coefficients=style_coefficients,
        warnings=warnings,
    )
