"""Vote hygiene at ranking time: which counted votes enter the fit, and why the others do not.

Two rules, each on by default and each counted by reason for the admins:

- **Repeated prompts.** FastChat keeps at most the 99.99th-percentile count of an identical prompt.
  A percentile of prompt counts only means something over many distinct prompts, so the cap is
  that percentile once there are at least 10,000 distinct prompts, and never below
  `prompt_repeat_floor`; the first votes on a prompt are kept, the later ones left out.
- **Anomalous voters** (after the Chatbot Arena paper, arXiv 2403.04132, §5, which tests each
  user's votes against what the other users' votes predict): each voter, and each client IP, with
  at least `anomaly_min_votes` votes is tested against the Bradley-Terry model fitted to the votes
  (for the heaviest groups, to everyone else's votes only, so that they cannot pull the model
  towards themselves). Under that model (with the overall tie rate) every vote has a known
  distribution over {A wins, B wins, tie}, so the group's log-likelihood T = Σ log P(observed) has
  a known mean and variance if the group votes like everyone else. The test is one-sided on
  z = (E[T] − T) / sd(T): a group is left out when P(Z ≥ z) is below `anomaly_alpha` divided by
  the number of groups tested (Bonferroni). This is the paper's idea with a more powerful
  combination than Fisher's method, whose discrete per-vote p-values are rarely small: someone
  who keeps voting for a weaker model is a little surprising vote after vote, and is caught.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from ratings import aggregate, compute_leaderboard_from_counts

Ints = NDArray[np.int64]
NONE = -1  # the code of a missing voter, IP or prompt


@dataclass(frozen=True)
class HygieneRules:
    """The ranking-time rules and their thresholds."""

    repeated_prompts: bool = True
    prompt_repeat_floor: int = 20
    anomalous_voters: bool = True
    anomaly_min_votes: int = 10
    anomaly_alpha: float = 0.01
    # Leave-one-out refits for the heaviest groups only (the ones that move the fit).
    anomaly_max_refits: int = 20


@dataclass(frozen=True)
class VoteColumns:
    """Votes in vote order as integer columns: model ids, outcome (0 a, 1 b, 2 tie, 3 both bad),
    and small-integer codes for the voter, the client IP and the prompt (NONE when missing)."""

    a: Ints
    b: Ints
    outcome: NDArray[np.int8]
    voter: Ints
    ip: Ints
    prompt: Ints

    def __len__(self) -> int:
        return len(self.a)


def prompt_cap(counts: NDArray[np.int64], floor: int) -> int:
    """How many votes on one identical prompt are kept."""
    if len(counts) < 10_000:
        return floor
    return max(floor, math.ceil(float(np.percentile(counts, 99.99))))


def occurrence(codes: Ints) -> Ints:
    """For each element, how many earlier elements have the same code (0 for the first)."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    out = np.empty(len(codes), dtype=np.int64)
    out[order] = np.arange(len(codes)) - run_start
    return out


def apply_hygiene(
    votes: VoteColumns, rules: HygieneRules
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """A keep-mask over the votes and the number left out per reason."""
    keep = np.ones(len(votes), dtype=bool)
    left_out: dict[str, int] = {"repeated_prompt": 0, "anomalous_voter": 0, "anomalous_ip": 0}
    if not len(votes):
        return keep, left_out
    if rules.repeated_prompts:
        has = votes.prompt != NONE
        counts = np.bincount(votes.prompt[has]) if has.any() else np.zeros(0, dtype=np.int64)
        cap = prompt_cap(counts[counts > 0], rules.prompt_repeat_floor)
        late = has & (occurrence(votes.prompt) >= cap)
        keep &= ~late
        left_out["repeated_prompt"] = int(late.sum())
    if rules.anomalous_voters:
        for reason, groups in (("anomalous_voter", votes.voter), ("anomalous_ip", votes.ip)):
            flagged = anomalous_groups(votes, keep, groups, rules)
            out = keep & np.isin(groups, flagged)
            keep &= ~out
            left_out[reason] = int(out.sum())
    return keep, left_out


def anomalous_groups(
    votes: VoteColumns, keep: NDArray[np.bool_], groups: Ints, rules: HygieneRules
) -> Ints:
    """The codes of the groups (voters or IPs) whose votes the rest find too surprising.

    Vectorised: every vote's surprise comes from one fit on all kept votes and is summed per
    group. The groups big enough to pull that fit towards themselves (at least 1% of the votes;
    the largest `anomaly_max_refits`) are re-tested against a fit that leaves them out.
    """
    live = keep & (groups != NONE)
    if not live.any():
        return np.zeros(0, dtype=np.int64)
    sizes = np.bincount(groups[live])
    tested = np.flatnonzero(sizes >= rules.anomaly_min_votes)
    if not len(tested):
        return np.zeros(0, dtype=np.int64)
    m, a, b = _dense(votes.a, votes.b)
    o = np.minimum(votes.outcome, 2)  # both kinds of tie alike
    tie_rate = float(np.mean(o[keep] == 2)) if keep.any() else 0.0
    rating = _ratings(a, b, o, keep, m)
    parts = _vote_surprise(rating, a[live], b[live], o[live], tie_rate)
    sums = [np.bincount(groups[live], weights=part, minlength=len(sizes)) for part in parts]
    total = int(keep.sum())
    heavy = tested[sizes[tested] >= 0.01 * total]
    for g in heavy[np.argsort(-sizes[heavy], kind="stable")][: rules.anomaly_max_refits]:
        mine = keep & (groups == g)
        left_out = _ratings(a, b, o, keep & ~mine, m)
        for k, part in enumerate(
            _surprise(left_out[a[mine]] - left_out[b[mine]], o[mine], tie_rate)
        ):
            sums[k][g] = part.sum()
    observed, expected, variance = (x[tested] for x in sums)
    z = (expected - observed) / np.sqrt(np.maximum(variance, 1e-12))
    flagged: Ints = tested[stats.norm.sf(z) < rules.anomaly_alpha / len(tested)]
    return flagged


def _dense(model_a: Ints, model_b: Ints) -> tuple[int, Ints, Ints]:
    """The number of models in the votes and each side as 0..m-1 in model id order (what
    `np.unique(..., return_inverse=True)` gives, by a lookup table instead of a sort)."""
    if not len(model_a):
        return 0, model_a, model_b
    low = int(min(model_a.min(), model_b.min()))
    width = int(max(model_a.max(), model_b.max())) - low + 1
    if width > 4 * (len(model_a) + 1024):  # sparse ids: a table would be mostly empty
        ids, inverse = np.unique(np.r_[model_a, model_b], return_inverse=True)
        return len(ids), inverse[: len(model_a)], inverse[len(model_a) :]
    present = np.zeros(width, dtype=bool)
    present[model_a - low] = True
    present[model_b - low] = True
    code = np.cumsum(present) - 1
    return int(present.sum()), code[model_a - low], code[model_b - low]


def _vote_surprise(
    rating: NDArray[np.float64], a: Ints, b: Ints, o: NDArray[np.int8], tie_rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_surprise` of each vote; computed once per (pair, outcome) and looked up when there are
    fewer pairs than votes (the usual case: a million votes over a hundred models)."""
    m = len(rating)
    if m * m > len(a):
        return _surprise(rating[a] - rating[b], o, tie_rate)
    diff = (rating[:, None] - rating[None, :]).ravel()
    pairs = np.repeat(np.arange(m * m), 3)
    observed, mean, variance = _surprise(diff[pairs], np.tile(np.arange(3), m * m), tie_rate)
    pair = a * m + b
    return observed[pair * 3 + o], mean[pair * 3], variance[pair * 3]


def _ratings(
    a: Ints, b: Ints, o: NDArray[np.int8], mask: NDArray[np.bool_], m: int
) -> NDArray[np.float64]:
    """Bradley-Terry ratings (400 scale) fitted on the masked votes; 1000 for unseen models."""
    out = np.full(m, 1000.0)
    if not mask.any():
        return out
    counts = aggregate(a[mask], b[mask], o[mask], m)
    lb = compute_leaderboard_from_counts(counts, [str(i) for i in range(m)], min_battles=0)
    for r in lb.models:
        out[int(r.model)] = r.rating
    return out


def _surprise(
    diff: np.ndarray, outcome: np.ndarray, tie_rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per vote: log P(observed outcome), and that log-probability's mean and variance."""
    p_a = 1.0 / (1.0 + 10.0 ** (-diff / 400.0))
    probs = np.stack(
        [(1 - tie_rate) * p_a, (1 - tie_rate) * (1 - p_a), np.full_like(p_a, tie_rate)], axis=1
    )
    logs = np.log(np.clip(probs, 1e-12, 1.0))
    observed = logs[np.arange(len(outcome)), outcome]
    mean = (probs * logs).sum(axis=1)
    variance = (probs * logs**2).sum(axis=1) - mean**2
    return observed, mean, variance
