"""LLM judges' verdicts on arena battles as columns the boards can fit, kept apart from votes.

Only battle judgements with a verdict count; a judge's verdicts on a battle in which it is a
contestant are left out (self-preference) and counted, so the board can say how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, select
from sqlmodel import col

from arena.store.images import with_images
from arena.store.judge_tables import Judgement

OUTCOME = {"model_a": 0, "model_b": 1, "tie": 2}


@dataclass(frozen=True)
class JudgeColumns:
    """Counted judgements: contestants (endpoint ids), outcome (0 a, 1 b, 2 tie), strength, judge,
    categories, style features (n, 2, 4; NaN when missing) and whether the battle carried images
    (its judgements rank on the vision board, as its votes do)."""

    a: NDArray[np.int64]
    b: NDArray[np.int64]
    outcome: NDArray[np.int8]
    strong: NDArray[np.bool_]
    judge: NDArray[np.int64]
    categories: list[list[str]]
    style: NDArray[np.float64]
    vision: NDArray[np.bool_]
    self_judged: int  # verdicts left out because the judge was a contestant


def judge_columns(engine: Engine, *, judge_id: int | None = None) -> JudgeColumns:
    """Every counted judge verdict on an arena battle (optionally of one judge)."""
    query = select(
        col(Judgement.model_a_id),
        col(Judgement.model_b_id),
        col(Judgement.outcome),
        col(Judgement.strong),
        col(Judgement.judge_id),
        col(Judgement.categories),
        col(Judgement.style),
        with_images(col(Judgement.battle_id)),
    ).where(
        col(Judgement.status) == "done",
        col(Judgement.outcome).is_not(None),
        col(Judgement.battle_id).is_not(None),
    )
    if judge_id is not None:
        query = query.where(col(Judgement.judge_id) == judge_id)
    with engine.connect() as conn:
        rows: list[Any] = list(conn.execute(query.order_by(col(Judgement.id))).all())
    own = [r for r in rows if r[4] in (r[0], r[1])]
    rows = [r for r in rows if r[4] not in (r[0], r[1])]
    n = len(rows)
    style = np.full((n, 2, 4), np.nan)
    for i, r in enumerate(rows):
        if r[6] and len(r[6]) == 8:
            style[i] = np.asarray(r[6], dtype=np.float64).reshape(2, 4)
    return JudgeColumns(
        a=np.fromiter((r[0] for r in rows), np.int64, n),
        b=np.fromiter((r[1] for r in rows), np.int64, n),
        outcome=np.fromiter((OUTCOME[r[2]] for r in rows), np.int8, n),
        strong=np.fromiter((bool(r[3]) for r in rows), np.bool_, n),
        judge=np.fromiter((r[4] for r in rows), np.int64, n),
        categories=[list(r[5] or []) for r in rows],
        style=style,
        vision=np.fromiter((bool(r[7]) for r in rows), np.bool_, n),
        self_judged=len(own),
    )
