"""Which two models meet: pure functions from the drawable models, a policy and vote statistics.

The caller decides *who may be drawn* (enabled, not retired, not paused by the circuit breaker,
weight above zero: `arena.endpoints.drawable_endpoints`) and passes that set in as `Candidate`s;
nothing here reads the database or the clock.

Two modes:

* ``weighted`` — an unordered pair {i, j} is drawn with probability proportional to
  ``f_i * f_j * t_ij``: ``f`` is the model's weight (times ``new_model_boost`` while it has fewer
  than ``new_model_battles`` battles) and ``t_ij`` is ``target_boost`` when one of the two lists
  the other as a battle target. With default weights every pair is equally likely.
* ``active`` — ``exploration * weighted + (1 - exploration) * active``. The active part scores
  each pair by what one more vote on it would do for the leaderboard's uncertainty, and is
  multiplied by the same ``f_i * f_j * t_ij`` so an admin's weights keep their meaning. The
  statistics (`active_stats`) are a Bradley-Terry fit of the votes with a weak prior; one battle
  of i vs j adds Fisher information ``w x x^T`` (``x = e_i - e_j``, ``w = p_ij (1 - p_ij)``), so
  by the rank-one (Sherman-Morrison) update the rating covariance ``C`` loses
  ``w (C x)(C x)^T / (1 + w x^T C x)``. Three rules:

  - ``design`` (default): greedy A-optimal design on the per-model standard errors (what the
    leaderboard's intervals show). Plan the next ``horizon`` votes one at a time, each time
    taking the pair whose battle most lowers ``sum_k sd_k`` and updating ``C``; a pair is drawn
    in proportion to its share of that plan. Concurrent battles drawn from one cached plan
    spread over it instead of all landing on the single best pair. In the benchmark it gets
    within a few percent of the best fixed allocation computed from the true strengths.
  - ``ratings``: the same gain, one step ahead, and pairs drawn in proportion to it
    (``sum_k sd_k - sqrt(C_kk - drop_k)``). Gains of all pairs are within a small factor of
    each other, so this stays close to uniform and recovers only part of the design's gain.
  - ``pairs``: the Chatbot Arena paper's rule (arXiv 2403.04132, section 5), draws in proportion
    to ``sqrt(S_a / n_a) - sqrt(S_a / (n_a + 1))``, ``S_a`` the per-battle variance of the pair's
    score (``p (1 - p) - ties / 4``), ``n_a`` its battles plus one pseudo-battle (so an unseen pair
    is finite). It shrinks *pairwise* win-rate intervals, i.e. mostly evens out pair counts, which
    uniform sampling already does: it barely helps the per-model intervals.

  A model missing from the statistics (added since they were computed) scores as the best pair.

The exploration floor keeps every pair's probability at least ``exploration`` times its weighted
probability, so the statistics never lose sight of any pair.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from arena.core.errors import MatchmakingError as MatchmakingError
from arena.matchmaking.active import ActiveStats as ActiveStats
from arena.matchmaking.active import active_stats as active_stats
from arena.matchmaking.active import pair_tables as pair_tables

Mode = Literal["weighted", "active"]
ActiveRule = Literal["design", "ratings", "pairs"]
Floats = NDArray[np.float64]
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")


class NotEnoughModels(MatchmakingError):
    """Fewer than two models can be drawn."""


@dataclass(frozen=True)
class Candidate:
    """A drawable model: its id, its admin weight and its battles so far (counted votes)."""

    id: int
    weight: float = 1.0
    battles: int = 0


@dataclass(frozen=True)
class Policy:
    """How pairs are chosen; see the module docstring."""

    mode: Mode = "weighted"
    new_model_battles: int = 0  # boost models with fewer battles than this; 0 = off
    new_model_boost: float = 1.0
    targets: Mapping[int, Sequence[int]] = field(default_factory=lambda: MappingProxyType({}))
    target_boost: float = 1.0
    exploration: float = 0.2  # active mode: share of draws made by the weighted rule
    active_rule: ActiveRule = "design"

    def __post_init__(self) -> None:
        if self.mode not in ("weighted", "active"):
            raise MatchmakingError(f"unknown matchmaking mode {self.mode!r}")
        if self.active_rule not in ("design", "ratings", "pairs"):
            raise MatchmakingError(f"unknown active rule {self.active_rule!r}")
        if self.new_model_battles < 0:
            raise MatchmakingError("new_model_battles must be 0 or more")
        for name in ("new_model_boost", "target_boost"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise MatchmakingError(f"{name} must be a positive number, got {value!r}")
        if not (0.0 <= self.exploration <= 1.0):
            raise MatchmakingError(f"exploration must be in [0, 1], got {self.exploration!r}")


def validate(candidates: Sequence[Candidate]) -> None:
    """Raise MatchmakingError for bad weights or duplicate ids, NotEnoughModels below two."""
    seen: set[int] = set()
    for c in candidates:
        if c.id in seen:
            raise MatchmakingError(f"model {c.id} is listed twice")
        seen.add(c.id)
        if not math.isfinite(c.weight) or c.weight < 0:
            raise MatchmakingError(
                f"model {c.id} has weight {c.weight!r}; weights must be finite and 0 or more"
            )
        if c.battles < 0:
            raise MatchmakingError(f"model {c.id} has a negative battle count")
    if sum(1 for c in candidates if c.weight > 0) < 2:
        raise NotEnoughModels("fewer than two models can be drawn (weight above zero)")


# --- Legacy helpers: (id, weight) tuples, invalid weights skipped rather than refused. ---


def draw_pair(candidates: Sequence[tuple[int, float]], rng: random.Random) -> tuple[int, int]:
    """Two distinct ids drawn by weight without replacement, in random side order."""
    pool = [(i, w) for i, w in candidates if w > 0 and math.isfinite(w)]
    if len({i for i, _ in pool}) < 2:
        raise NotEnoughModels("fewer than two models can be drawn")
    first = _weighted_choice(pool, rng)
    second = _weighted_choice([(i, w) for i, w in pool if i != first], rng)
    return (first, second) if rng.random() < 0.5 else (second, first)


def draw_replacement(
    candidates: Sequence[tuple[int, float]], exclude: set[int], rng: random.Random
) -> int | None:
    """One id by weight among those not excluded, or None when there is none."""
    pool = [(i, w) for i, w in candidates if i not in exclude and w > 0 and math.isfinite(w)]
    return _weighted_choice(pool, rng) if pool else None


def _weighted_choice(pool: Sequence[tuple[int, float]], rng: random.Random) -> int:
    total = sum(w for _, w in pool)
    x = rng.random() * total
    for i, w in pool:
        x -= w
        if x < 0:
            return i
    return pool[-1][0]


# --- The draw. ---


@dataclass(frozen=True, eq=False)
class PairTable:
    """Unordered pairs ``(ids[i[k]], ids[j[k]])`` and their probabilities ``prob[k]``."""

    ids: NDArray[np.int64]
    i: NDArray[np.intp]
    j: NDArray[np.intp]
    prob: Floats


def pair_table(
    candidates: Sequence[Candidate], policy: Policy, stats: ActiveStats | None = None
) -> PairTable:
    """Every drawable pair with its probability (validates the candidates first)."""
    validate(candidates)
    pool = [c for c in candidates if c.weight > 0]
    ids = np.array([c.id for c in pool], dtype=np.int64)
    f = np.array([c.weight for c in pool], dtype=np.float64)
    if policy.new_model_battles > 0:
        new = np.array([c.battles < policy.new_model_battles for c in pool])
        f = np.where(new, f * policy.new_model_boost, f)
    i, j = np.triu_indices(len(pool), 1)
    factor = f[i] * f[j]
    if policy.targets and policy.target_boost != 1.0:
        factor = factor * _target_factor(ids, i, j, policy)
    weighted = factor / factor.sum()
    if policy.mode == "weighted" or stats is None:
        return PairTable(ids, i, j, weighted)
    gain = _pool_gain(ids, i, j, stats, policy.active_rule)
    active = gain * factor
    total = float(active.sum())
    if not (math.isfinite(total) and total > 0):
        return PairTable(ids, i, j, weighted)
    prob = policy.exploration * weighted + (1.0 - policy.exploration) * active / total
    return PairTable(ids, i, j, prob / prob.sum())


def _target_factor(
    ids: NDArray[np.int64], i: NDArray[np.intp], j: NDArray[np.intp], policy: Policy
) -> Floats:
    wanted = {
        (min(a, b), max(a, b)) for a, rivals in policy.targets.items() for b in rivals if a != b
    }
    lo, hi = np.minimum(ids[i], ids[j]), np.maximum(ids[i], ids[j])
    hit = np.array([(int(x), int(y)) in wanted for x, y in zip(lo, hi, strict=True)], dtype=bool)
    return np.where(hit, policy.target_boost, 1.0)


def _pool_gain(
    ids: NDArray[np.int64],
    i: NDArray[np.intp],
    j: NDArray[np.intp],
    stats: ActiveStats,
    rule: ActiveRule,
) -> Floats:
    """Gains of the pool's pairs; a pair with a model the stats do not know gets the top gain."""
    # Only the rule in use is computed (the tables are cached properties).
    if rule == "design":
        table = stats.plan
    elif rule == "ratings":
        table = stats.gain_ratings
    else:
        table = stats.gain_pairs
    where = {mid: k for k, mid in enumerate(stats.model_ids)}
    pos = np.array([where.get(int(x), -1) for x in ids], dtype=np.intp)
    known = (pos[i] >= 0) & (pos[j] >= 0)
    gain = np.zeros(len(i))
    gain[known] = table[pos[i][known], pos[j][known]]
    top = float(gain.max(initial=0.0))
    gain[~known] = top if top > 0 else 1.0
    return gain


def pair_probabilities(
    candidates: Sequence[Candidate], policy: Policy, stats: ActiveStats | None = None
) -> dict[tuple[int, int], float]:
    """Probability of each unordered pair ``(low id, high id)`` being the next battle."""
    t = pair_table(candidates, policy, stats)
    a, b = t.ids[t.i], t.ids[t.j]
    return {
        (int(min(x, y)), int(max(x, y))): float(q) for x, y, q in zip(a, b, t.prob, strict=True)
    }


def draw_probabilities(
    candidates: Sequence[Candidate], policy: Policy, stats: ActiveStats | None = None
) -> dict[int, float]:
    """Probability that each candidate appears in the next battle (they sum to 2)."""
    t = pair_table(candidates, policy, stats)
    n = len(t.ids)
    marginal = np.bincount(t.i, t.prob, minlength=n) + np.bincount(t.j, t.prob, minlength=n)
    out = {c.id: 0.0 for c in candidates}
    out.update({int(mid): float(q) for mid, q in zip(t.ids, marginal, strict=True)})
    return out


def draw_battle_pair(
    candidates: Sequence[Candidate],
    policy: Policy,
    rng: random.Random,
    stats: ActiveStats | None = None,
) -> tuple[int, int]:
    """Draw a pair by `pair_table` and seat it: (model_a, model_b), sides at random."""
    t = pair_table(candidates, policy, stats)
    cumulative = np.cumsum(t.prob)
    k = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    k = min(k, len(cumulative) - 1)
    a, b = int(t.ids[t.i[k]]), int(t.ids[t.j[k]])
    return (a, b) if rng.random() < 0.5 else (b, a)
