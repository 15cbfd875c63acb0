"""The judges' board and the combined board: human battles and LLM judges' verdicts in one fit.

Each judgement is one weighted battle: a strong verdict counts `strong` times, and on the
combined board every judgement is further scaled by `in_all` next to a human vote's weight of 1.
The sandwich interval uses the squared weights, so a heavy verdict narrows it honestly.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine

from arena.core.judge_rules import JudgeWeights
from arena.votes.judge_votes import judge_columns
from ratings import Battles


class _Options(Protocol):  # what this module reads of LeaderboardOptions (no import of board)
    @property
    def votes(self) -> str: ...
    @property
    def category(self) -> str | None: ...
    @property
    def style_control(self) -> bool: ...
    @property
    def modality(self) -> str: ...


def with_judges(
    engine: Engine,
    opts: _Options,
    human: Battles,
    ids: NDArray[np.int64],
    left_out: dict[str, int],
    weights: JudgeWeights,
) -> Battles:
    """`human` plus the counted judge verdicts (weighted); notes the self-judged ones left out."""
    cols = judge_columns(engine)
    left_out["self_judged"] = cols.self_judged
    keep = np.isin(cols.a, ids) & np.isin(cols.b, ids)
    # A battle with images ranks on the vision board only, as its human votes do.
    keep &= cols.vision if opts.modality == "vision" else ~cols.vision
    if opts.category:
        keep &= np.array([opts.category in c for c in cols.categories], dtype=bool)
    w = np.where(cols.strong[keep], weights.strong, 1.0)
    if opts.votes == "all":
        w = w * weights.in_all
    n_human = len(human.model_a)
    human_w = np.ones(n_human) if human.weights is None else human.weights
    style = None
    if opts.style_control and human.style is not None:
        style = np.concatenate([human.style, cols.style[keep]])
    return Battles.from_arrays(
        human.names,
        np.concatenate([human.model_a, np.searchsorted(ids, cols.a[keep])]),
        np.concatenate([human.model_b, np.searchsorted(ids, cols.b[keep])]),
        np.concatenate([human.outcome, cols.outcome[keep]]),
        weights=np.concatenate([human_w, w]),
        style=style,
    )
