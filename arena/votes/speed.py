"""Speed and cost per model over the battles a leaderboard ranks: one numpy pass, no per-row Python.

Each worker keeps the answers of voted battles as columns (vote id, endpoint, time to first
token, total time, tokens), read incrementally by vote id like the vote cache. A board passes
the ids of the votes that entered its fit (after category, hygiene and every other filter), so
the figures describe exactly the battles behind the rating:

- `ttft_p50_ms`: median time to first token of the model's answers;
- `tokens_per_s_p50`: median of answer tokens / (total time - time to first token), over the
  answers that took at least MIN_GENERATION_S after their first token;
- `answer_tokens_p50`: median answer length in tokens;
- `cost_per_1k_battles`: what the model's answers in 1,000 such battles cost at its current
  prices (all turns), None without both prices: unknown is not free;
- `answers`: how many answers these figures come from.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from arena.store.tables import Answer, Counter, Endpoint, Turn, Vote
from arena.votes.records import fetch_records
from arena.votes.version import VOTES_VERSION

SPEED_KEYS = ("ttft_p50_ms", "tokens_per_s_p50", "answer_tokens_p50", "cost_per_1k_battles")
# Votes are numbered when inserted but may commit out of order: each read looks back this far.
LOOK_BACK = 256
Floats = NDArray[np.float64]
# An answer that arrived in one piece (a plain JSON reply, a buffering proxy) or in less time
# than this says nothing about a model's speed: its rate would be thousands of tokens a second.
MIN_GENERATION_S = 0.1


@dataclass
class AnswerColumns:
    """The answers of voted battles, one row per answer, in vote order."""

    vote: NDArray[np.int64]
    endpoint: NDArray[np.int64]
    ttft_ms: Floats
    total_ms: Floats
    prompt_tokens: Floats  # NaN when unknown
    completion_tokens: Floats
    estimated: NDArray[np.bool_]

    @classmethod
    def empty(cls) -> AnswerColumns:
        """No answers."""
        f = np.zeros(0)
        i = np.zeros(0, dtype=np.int64)
        return cls(i, i, f, f, f, f, np.zeros(0, dtype=bool))


def _query(after: int) -> Any:
    return (
        sa_select(
            col(Vote.id),
            col(Answer.endpoint_id),
            col(Answer.ttft_ms),
            col(Answer.total_ms),
            col(Answer.prompt_tokens),
            col(Answer.completion_tokens),
            col(Answer.tokens_estimated),
        )
        .select_from(Vote)
        .join(Turn, col(Turn.battle_id) == col(Vote.battle_id))
        .join(Answer, col(Answer.turn_id) == col(Turn.id))
        .where(col(Vote.id) > after, col(Answer.status) == "done")
        .order_by(col(Vote.id))
    )


_ROW: np.dtype[Any] = np.dtype(
    [
        ("vote", np.int64),
        ("endpoint", np.int64),
        ("ttft_ms", np.float64),
        ("total_ms", np.float64),
        ("prompt_tokens", np.float64),
        ("completion_tokens", np.float64),
        ("estimated", np.bool_),
    ]
)


def _fetch(conn: Connection, after: int) -> NDArray[Any]:
    """The answers of votes after `after` as numpy records (NULL numbers: NaN)."""
    return fetch_records(conn, _query(after), _ROW)


def _state(conn: Connection) -> tuple[int, int]:
    """What the answers of voted battles are as of: the votes version and the newest vote id
    (every vote bumps the version; the id also catches a vote stored without a bump)."""
    version = conn.execute(
        sa_select(col(Counter.value)).where(col(Counter.name) == VOTES_VERSION)
    ).scalar()
    newest = conn.execute(sa_select(func.max(col(Vote.id)))).scalar()
    return int(version or 0), int(newest or 0)


def in_sorted(values: NDArray[np.int64], sorted_keys: NDArray[np.int64]) -> NDArray[np.bool_]:
    """`np.isin(values, sorted_keys)` for sorted keys, by binary search instead of a sort."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    found: NDArray[np.bool_] = sorted_keys[at] == values
    return found


@dataclass
class AnswerCache:
    """The answers this worker has read so far (only a copy of database rows).

    Keyed by the votes version in the database (and the newest vote id): while neither has
    moved no vote was cast, so no answer can have joined a vote, and a read asks for nothing.
    Each worker holds its own copy; the key is the database's, not the worker's."""

    max_vote: int = 0
    columns: AnswerColumns = field(default_factory=AnswerColumns.empty)
    lock: threading.Lock = field(default_factory=threading.Lock)
    state: tuple[int, int] | None = None

    def read(self, engine: Engine) -> AnswerColumns:
        """All answers of voted battles as of now."""
        with self.lock:
            after = max(0, self.max_vote - LOOK_BACK)
            with engine.connect() as conn:
                state = _state(conn)  # before the answers: a vote after it shows next time
                if state == self.state:
                    return self.columns
                rows = _fetch(conn, after)
            held = self.columns
            if len(rows):
                rows = rows[~in_sorted(rows["vote"], held.vote[held.vote > after])]
            if len(rows):
                fresh = AnswerColumns(*(rows[k] for k in AnswerColumns.__dataclass_fields__))
                merged = AnswerColumns(
                    *(
                        np.concatenate([getattr(held, k), getattr(fresh, k)])
                        for k in AnswerColumns.__dataclass_fields__
                    )
                )
                order = np.argsort(merged.vote, kind="stable")
                self.columns = AnswerColumns(
                    *(getattr(merged, k)[order] for k in AnswerColumns.__dataclass_fields__)
                )
                self.max_vote = int(self.columns.vote[-1])
            self.state = state
            return self.columns


def grouped_median(groups: NDArray[np.int64], values: Floats) -> dict[int, float]:
    """The median of `values` per group, NaNs left out: one stable sort by group (the groups
    are few), then a selection of the middle values within each group (no sort of values)."""
    ok = ~np.isnan(values)
    g, v = groups[ok], values[ok]
    if not len(g):
        return {}
    order = np.argsort(g, kind="stable")
    g, v = g[order], v[order]
    start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    end = np.r_[start[1:], len(g)]
    out: dict[int, float] = {}
    for k, s, e in zip(g[start].tolist(), start.tolist(), end.tolist(), strict=True):
        lo, hi = (e - s - 1) // 2, (e - s) // 2
        part = np.partition(v[s:e], (lo, hi))
        out[k] = float((part[lo] + part[hi]) / 2)
    return out


@dataclass(frozen=True)
class Prices:
    """An endpoint's prices per million tokens (None: not set)."""

    input: float | None
    output: float | None


def speed_figures(
    answers: AnswerColumns, kept_votes: NDArray[np.int64], prices: dict[int, Prices]
) -> dict[int, dict[str, Any]]:
    """Each endpoint's speed and cost over the answers of these votes' battles."""
    kept = kept_votes if _ascending(kept_votes) else np.sort(kept_votes)
    sel = in_sorted(answers.vote, kept)
    ep = answers.endpoint[sel]
    if not len(ep):
        return {}
    ttft, total = answers.ttft_ms[sel], answers.total_ms[sel]
    prompt, completion = answers.prompt_tokens[sel], answers.completion_tokens[sel]
    gen_s = (total - ttft) / 1000
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where((gen_s >= MIN_GENERATION_S) & (completion > 0), completion / gen_s, np.nan)
    ttft_p50 = grouped_median(ep, ttft)
    rate_p50 = grouped_median(ep, rate)
    length_p50 = grouped_median(ep, completion)
    width = int(ep.max()) + 1
    per_endpoint = np.bincount(ep, minlength=width)
    ids = np.flatnonzero(per_endpoint)
    counts = per_endpoint[ids]
    # Battles per endpoint: distinct (vote, endpoint) pairs (answers come in vote order, so the
    # stable sort has little to do; np.unique would hash two million keys).
    pairs = np.sort(answers.vote[sel] * width + ep, kind="stable")
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
    battles = np.bincount(pairs % width, minlength=width)
    known = ~np.isnan(prompt) & ~np.isnan(completion)
    tok_answers = np.bincount(ep[known], minlength=width)
    sum_prompt = np.bincount(ep[known], weights=prompt[known], minlength=width)
    sum_completion = np.bincount(ep[known], weights=completion[known], minlength=width)
    estimated = np.bincount(ep[answers.estimated[sel]], minlength=width)
    out: dict[int, dict[str, Any]] = {}
    for e, n in zip(ids.tolist(), counts.tolist(), strict=True):
        price = prices.get(e, Prices(None, None))
        cost = None
        if price.input is not None and price.output is not None and tok_answers[e]:
            # Token means over the answers that have counts, times answers per battle.
            per_answer = (sum_prompt[e] * price.input + sum_completion[e] * price.output) / (
                tok_answers[e] * 1_000_000
            )
            cost = 1000 * per_answer * n / battles[e]
        out[e] = {
            "ttft_p50_ms": _round(ttft_p50.get(e), 1),
            "tokens_per_s_p50": _round(rate_p50.get(e), 2),
            "answer_tokens_p50": _round(length_p50.get(e), 1),
            "cost_per_1k_battles": _round(cost, 9),
            "answers": n,
            "tokens_estimated": bool(estimated[e]),
        }
    return out


def _ascending(values: NDArray[np.int64]) -> bool:
    return len(values) < 2 or bool((values[1:] >= values[:-1]).all())


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def empty_figures() -> dict[str, Any]:
    """The figures of a model with no answers here (e.g. only imported battles)."""
    return {**dict.fromkeys(SPEED_KEYS), "answers": 0, "tokens_estimated": False}


def board_figures(
    engine: Engine, cache: AnswerCache, kept_votes: NDArray[np.int64], endpoints: Iterable[Endpoint]
) -> dict[int, dict[str, Any]]:
    """Each endpoint's figures over the battles of the votes a board kept."""
    prices = {e.id: Prices(e.input_price, e.output_price) for e in endpoints if e.id is not None}
    return speed_figures(cache.read(engine), kept_votes, prices)
