"""The admin's spend view: tokens and cost per endpoint per UTC day, and today's budgets."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import col, select

from arena.store.engine import session_scope
from arena.store.spend import spend_by_day, spent_today, within_budget
from arena.store.tables import Endpoint, utcnow


class SpendDay(BaseModel):
    """What one model used on one UTC day."""

    day: date
    model: str
    answers: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None


class BudgetState(BaseModel):
    """One model's spend today against its prices and daily budget."""

    model: str
    input_price: float | None
    output_price: float | None
    daily_budget: float | None
    spent_today: float | None
    over_budget: bool
    drawn_again_at: datetime | None


class SpendReport(BaseModel):
    """`GET /api/admin/spend`: the days, newest first, and each model's budget today."""

    currency: str
    since: date
    days: list[SpendDay]
    models: list[BudgetState]


def spend_report(
    engine: Engine, *, currency: str, days: int = 30, now: datetime | None = None
) -> SpendReport:
    """The last `days` UTC days of spend (today included) and the budgets of today."""
    now = now or utcnow()
    since = now.date() - timedelta(days=max(days, 1) - 1)
    with session_scope(engine) as session:
        endpoints = list(session.exec(select(Endpoint).order_by(col(Endpoint.name))))
        names = {e.id: e.name for e in endpoints}
        rows = spend_by_day(session, since=since)
        today = spent_today(session, now)
    return SpendReport(
        currency=currency,
        since=since,
        days=[
            SpendDay(
                day=r.day,
                model=names.get(r.endpoint_id, f"#{r.endpoint_id}"),
                answers=r.answers,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost=r.cost,
            )
            for r in rows
        ],
        models=[
            BudgetState(
                model=e.name,
                input_price=e.input_price,
                output_price=e.output_price,
                daily_budget=e.daily_budget,
                spent_today=today[e.id].cost if e.id in today else None,
                over_budget=not within_budget(e, now),
                drawn_again_at=None if within_budget(e, now) else e.over_budget_until,
            )
            for e in endpoints
            if not e.retired or e.id in today
        ],
    )
