"""What each side of a battle took and cost: shown at the reveal, never before the vote.

Speed and cost would give a model away (a slow, long-winded answer from a large model), so only
the vote's answer and the views of a voted battle carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from arena.store.spend import answer_cost
from arena.store.tables import Answer, Endpoint, Turn


@dataclass(frozen=True)
class SideFigures:
    """One side's answers in a battle, all turns: time, tokens and cost."""

    ttft_ms: float | None  # of the first turn
    total_ms: float | None  # all turns together
    prompt_tokens: int
    completion_tokens: int
    estimated: bool  # some counts were estimated from the text (no usage from the server)
    cost: float | None  # None without both prices

    def public(self) -> dict[str, Any]:
        """The JSON of these figures."""
        return {
            "ttft_ms": _round(self.ttft_ms),
            "total_ms": _round(self.total_ms),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_estimated": self.estimated,
            "cost": self.cost,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def side_figures(session: Session, battle_id: str) -> dict[str, SideFigures]:
    """Each side's figures over the battle's turns, costed at the endpoints' current prices."""
    rows = session.exec(
        select(Turn.index, Answer, Endpoint.input_price, Endpoint.output_price)
        .join(Answer, col(Answer.turn_id) == col(Turn.id))
        .join(Endpoint, col(Endpoint.id) == col(Answer.endpoint_id))
        .where(Turn.battle_id == battle_id)
        .order_by(col(Turn.index))
    ).all()
    out: dict[str, SideFigures] = {}
    for side in ("a", "b"):
        mine = [(a, i, o) for _, a, i, o in rows if a.side == side]
        if not mine:
            continue
        costs = [answer_cost(a.prompt_tokens, a.completion_tokens, i, o) for a, i, o in mine]
        totals = [a.total_ms for a, _, _ in mine if a.total_ms is not None]
        out[side] = SideFigures(
            ttft_ms=mine[0][0].ttft_ms,
            total_ms=sum(totals) if totals else None,
            prompt_tokens=sum(a.prompt_tokens or 0 for a, _, _ in mine),
            completion_tokens=sum(a.completion_tokens or 0 for a, _, _ in mine),
            estimated=any(a.tokens_estimated for a, _, _ in mine),
            cost=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        )
    return out
