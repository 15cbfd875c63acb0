"""Vote-flip audit: the fewest votes whose removal swaps two models (after arXiv 2508.11847).

Finding the true minimum is a combinatorial search. A fast approximation ranks every vote by its
influence on the rating gap: removing one vote from row ``r`` changes the fitted strengths by
about ``-A^-1 g_r`` (one Newton step from the full fit, ``A`` the information matrix and ``g_r``
that vote's score), so it moves the gap by ``-(e_top - e_other)^T A^-1 g_r``. Votes are removed in
order of that effect, most gap-closing first; refits then find the shortest prefix of that order
that really swaps the two (the first prefix the linear estimate says should do it, then doubling
and bisection). The answer is therefore a verified upper bound on the minimum: removing those
votes and refitting swaps the pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ratings.battles import TIE, Battles
from ratings.compute import _ridge
from ratings.counts import PairCounts, _drop_empty, aggregate, model_stats
from ratings.design import from_counts, logits
from ratings.graph import analyse, gauge_basis
from ratings.newton import factor, fit, solve

#: Score of the row's first model for each outcome column (i won, j won, tie, both bad).
_SCORE = np.array([1.0, 0.0, 0.5, 0.5])
_LABELS = ("model_a", "model_b", "tie", "tie (bothbad)")


@dataclass(frozen=True)
class FlipAudit:
    """How many votes keep ``top`` above ``other`` (``votes`` None: no removal order swaps them)."""

    top: str
    other: str
    gap: float  # rating points, top minus other, on the full fit
    votes: int | None
    estimate: int | None  # what the linear approximation alone predicted
    refits: int
    removed: list[dict[str, object]] = field(default_factory=list)


def _table(
    n_models: int,
    i: NDArray[np.intp],
    j: NDArray[np.intp],
    counts: NDArray[np.int64],
    reweight: bool,
) -> PairCounts:
    w = np.column_stack([counts[:, 0], counts[:, 1], counts[:, 2] + counts[:, 3]]).astype(
        np.float64
    )
    # Pairs left without votes must not connect the comparison graph any more.
    c = _drop_empty(PairCounts(n_models, i, j, counts, w, w.copy()))
    return c.reweighted() if reweight else c


def _strengths(c: PairCounts) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fitted strengths (natural-log units) and the system matrix at the optimum."""
    d, o = from_counts(c)
    graph = analyse(c, model_stats(c))
    f = fit(d, o, basis=gauge_basis(graph.component), ridge=_ridge(d, graph))
    return f.params, f.system


def audit_pair(
    battles: Battles,
    top: str,
    other: str,
    *,
    ties: str = "half",
    reweight: bool = False,
    max_refits: int = 40,
) -> FlipAudit:
    """The fewest votes (found greedily, verified by refitting) whose removal puts ``other``
    above ``top``. ``top`` must be rated above ``other`` on these battles."""
    if ties == "drop":
        battles = battles.select(np.asarray(battles.outcome < TIE, dtype=np.bool_))
    names = battles.names
    try:
        t, s = names.index(top), names.index(other)
    except ValueError as exc:
        raise ValueError(f"unknown model in the pair {top!r}, {other!r}") from exc
    m = len(names)
    base = aggregate(battles.model_a, battles.model_b, battles.outcome, m)
    c0 = _table(m, base.i, base.j, base.counts, reweight)
    theta, system = _strengths(c0)
    k = float(400.0 / np.log(10.0))
    gap = float(theta[t] - theta[s])
    if gap <= 0:
        raise ValueError(f"{top!r} is not rated above {other!r}")
    d, _ = from_counts(c0)
    p = 1.0 / (1.0 + np.exp(-logits(d, theta)))
    # Per-vote weight of each row (inverse pair frequency, or 1).
    per_vote = np.divide(
        c0.weighted.sum(axis=1),
        c0.pair_totals,
        out=np.zeros(len(c0.i)),
        where=c0.pair_totals > 0,
    )
    contrast = np.zeros(m)
    contrast[t], contrast[s] = 1.0, -1.0
    h = solve(factor(system), contrast)  # A^-1 (e_t - e_s)
    lever = h[c0.i] - h[c0.j]  # (e_t - e_s)^T A^-1 x_r for each row
    # Removing one vote of outcome column q in row r moves the gap by -lever_r * w_r * (y_q - p_r).
    effect = -(lever * per_vote)[:, None] * (_SCORE[None, :] - p[:, None])
    rows, cols = np.nonzero((effect < 0) & (base.counts > 0))
    order = np.argsort(effect[rows, cols], kind="stable")
    rows, cols = rows[order], cols[order]
    sizes = base.counts[rows, cols]
    reach = np.cumsum(sizes)
    closed = np.cumsum(sizes * effect[rows, cols])
    if not len(rows):
        return FlipAudit(top, other, gap * k, None, None, 0)

    def removal(n: int) -> NDArray[np.int64]:
        out = np.zeros_like(base.counts)
        full = int(np.searchsorted(reach, n, side="right"))
        out[rows[:full], cols[:full]] = sizes[:full]
        if full < len(rows):
            out[rows[full], cols[full]] = n - (int(reach[full - 1]) if full else 0)
        return out

    refits = 0

    def swaps(n: int) -> bool:
        nonlocal refits
        refits += 1
        th, _ = _strengths(_table(m, base.i, base.j, base.counts - removal(n), reweight))
        return bool(th[s] > th[t])

    hit = np.flatnonzero(closed <= -gap)
    estimate = None
    if len(hit):
        f = int(hit[0])
        before = float(closed[f - 1]) if f else 0.0
        need = int(np.ceil((-gap - before) / float(effect[rows[f], cols[f]])))
        estimate = (int(reach[f - 1]) if f else 0) + max(1, need)
    total = int(reach[-1])
    lo, hi = 0, min(estimate or 1, total)
    while not swaps(hi):
        if hi == total or refits >= max_refits:
            return FlipAudit(top, other, gap * k, None, estimate, refits)
        lo, hi = hi, min(total, hi * 2)
    # Invariant: removing `hi` votes swaps; removing `lo` does not (nothing removed: no swap).
    while hi - lo > 1 and refits < max_refits:
        mid = (lo + hi) // 2
        if swaps(mid):
            hi = mid
        else:
            lo = mid
    return replace(
        FlipAudit(top, other, gap * k, hi, estimate, refits),
        removed=_describe(removal(hi), base, names),
    )


def _describe(
    removed: NDArray[np.int64], c: PairCounts, names: list[str]
) -> list[dict[str, object]]:
    """The removed votes as (model_a, model_b, winner, votes), most first."""
    out: list[dict[str, object]] = []
    for r, q in zip(*np.nonzero(removed), strict=True):
        out.append(
            {
                "model_a": names[int(c.i[r])],
                "model_b": names[int(c.j[r])],
                "winner": _LABELS[int(q)],
                "votes": int(removed[r, q]),
            }
        )
    out.sort(key=lambda x: -int(x["votes"]))  # type: ignore[call-overload]
    return out


def removal_mask(battles: Battles, removed: list[dict[str, object]]) -> NDArray[np.bool_]:
    """A keep-mask over ``battles`` that drops the described votes (the first ones found)."""
    keep = np.ones(len(battles), dtype=bool)
    ids = {n: i for i, n in enumerate(battles.names)}
    for item in removed:
        a, b = ids[str(item["model_a"])], ids[str(item["model_b"])]
        q = _LABELS.index(str(item["winner"]))
        # Seen from battles stored as (b, a), a win by the row's first model is a win by model_b.
        same = (battles.model_a == a) & (battles.model_b == b) & (battles.outcome == q)
        flipped_q = {0: 1, 1: 0}.get(q, q)
        swapped = (battles.model_a == b) & (battles.model_b == a) & (battles.outcome == flipped_q)
        hits = np.flatnonzero((same | swapped) & keep)[: int(item["votes"])]  # type: ignore[call-overload]
        keep[hits] = False
    return keep
