"""Listed and preliminary models: a thin model is reported but never moves the listed board.

A model with fewer battles than the listing threshold is *preliminary*. The listed board is the
fit of the listed models on the battles among themselves alone, exactly what it would be if the
preliminary models had never played: their centring, intervals, ranks and Rank (UB) cannot move.
Each preliminary model is then reported from a second fit over all battles, shifted onto the
listed board's scale (so that the listed models' mean, or the anchor, agrees between the two
fits), and placed where its rating would slot in among the listed models. Its rank, Rank (UB) and
rank spread are computed against the listed models' intervals, never the other way round.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ratings.battles import TIE, Battles
from ratings.compute import compute_leaderboard
from ratings.leaderboard import Leaderboard, ModelRating


def battles_per_model(battles: Battles) -> NDArray[np.int64]:
    """How many battles each model id took part in."""
    m = len(battles.names)
    out: NDArray[np.int64] = np.bincount(battles.model_a, minlength=m) + np.bincount(
        battles.model_b, minlength=m
    )
    return out


def compute_listed(
    battles: Battles,
    *,
    listing_threshold: int = 30,
    ties: str = "half",
    reweight: bool = False,
    **kwargs: Any,
) -> Leaderboard:
    """The leaderboard with models under ``listing_threshold`` battles reported apart.

    ``ties`` is "half" (ties and both-bad count half a win each) or "drop" (left out);
    ``reweight`` weights battles by inverse pair frequency. Other keywords go to
    :func:`ratings.compute.compute_leaderboard`.
    """
    if ties not in ("half", "drop"):
        raise ValueError(f"ties must be 'half' or 'drop', not {ties!r}")
    if ties == "drop":
        battles = battles.select(np.asarray(battles.outcome < TIE, dtype=np.bool_))
    kwargs.update(min_battles=listing_threshold, reweight=reweight)
    n = battles_per_model(battles)
    listed = n >= listing_threshold
    thin = (n > 0) & ~listed
    full = compute_leaderboard(battles, **kwargs)
    if bool(thin.any()) and int(listed.sum()) >= 2:
        among = listed[battles.model_a] & listed[battles.model_b]
        board = compute_leaderboard(battles.select(np.asarray(among, dtype=np.bool_)), **kwargs)
        full = _merge(board, full, {battles.names[k] for k in np.flatnonzero(thin)})
    return dataclasses.replace(full, ties=ties, reweighted=reweight)


def _merge(board: Leaderboard, full: Leaderboard, thin: set[str]) -> Leaderboard:
    """Listed rows from ``board``; preliminary rows from ``full``, moved onto its scale."""
    # A listed model may fall under the threshold once its battles against thin models are set
    # aside; it is listed all the same (the threshold is on all its battles).
    listed = [
        dataclasses.replace(r, preliminary=False) for r in board.models if r.model not in thin
    ]
    by_name = {r.model: r for r in full.models}
    prelim: list[ModelRating] = []
    for r in (by_name[name] for name in thin if name in by_name):
        peers = [x for x in listed if by_name[x.model].component == r.component]
        if not peers:
            # Never met a listed model, even indirectly: no common scale; report it as fitted.
            prelim.append(dataclasses.replace(r, preliminary=True, component=-1))
            continue
        shift = float(np.mean([x.rating - by_name[x.model].rating for x in peers]))
        prelim.append(_placed(r, shift, peers))
    prelim.sort(key=lambda r: -r.rating)
    rows = listed + prelim
    return dataclasses.replace(
        board,
        total_battles=full.total_battles,
        models=rows,
        names=[r.model for r in rows],
        warnings=list(full.warnings) + [w for w in board.warnings if w not in full.warnings],
        **_matrices(full, [r.model for r in rows]),
    )


def _placed(r: ModelRating, shift: float, peers: list[ModelRating]) -> ModelRating:
    """A preliminary row on the listed scale, ranked against the listed models only."""
    rating, lo, hi = r.rating + shift, r.ci_lower + shift, r.ci_upper + shift
    return dataclasses.replace(
        r,
        rating=rating,
        ci_lower=lo,
        ci_upper=hi,
        preliminary=True,
        elo=r.elo,
        component=peers[0].component,
        rank=1 + sum(x.rating > rating for x in peers),
        rank_ub=1 + sum(x.ci_lower > hi for x in peers),
        rank_lb=1 + sum(x.ci_upper > lo for x in peers),
    )


def _matrices(full: Leaderboard, order: list[str]) -> dict[str, Any]:
    """The full fit's pair matrices, reordered to the merged rows."""
    pos = {name: i for i, name in enumerate(full.names)}
    idx = np.array([pos[name] for name in order], dtype=np.intp)
    pick = np.ix_(idx, idx)
    return {
        "win_rate_matrix": full.win_rate_matrix[pick],
        "predicted_matrix": full.predicted_matrix[pick],
        "count_matrix": full.count_matrix[pick],
    }
