"""What each endpoint spends per UTC day, and the daily budget that stops drawing it.

Every finished turn adds its answers' tokens and cost (at the endpoint's prices of that moment) to
the endpoint's row for the day, in the turn's own transaction. A model with a `daily_budget`
whose day has reached it gets `over_budget_until` = the next UTC midnight: like the circuit
breaker, the database says it, so every worker stops drawing it at once, and the next day it is
drawn again without anyone resetting anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, case, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from arena.store.tables import Endpoint, Spend, utcnow

PER = 1_000_000  # prices are per million tokens


def answer_cost(
    prompt_tokens: int | None,
    completion_tokens: int | None,
    input_price: float | None,
    output_price: float | None,
) -> float | None:
    """What one answer cost: None without both prices (unknown is not free), else exact."""
    if input_price is None or output_price is None:
        return None
    return ((prompt_tokens or 0) * input_price + (completion_tokens or 0) * output_price) / PER


def next_midnight(now: datetime) -> datetime:
    """The start of the next UTC day after `now` (naive UTC)."""
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time())


@dataclass(frozen=True)
class Usage:
    """One finished answer's tokens, for the spend of its endpoint."""

    endpoint_id: int
    prompt_tokens: int | None
    completion_tokens: int | None


_PRICES = sa_select(
    col(Endpoint.id),
    col(Endpoint.input_price),
    col(Endpoint.output_price),
    col(Endpoint.daily_budget),
).where(col(Endpoint.id).in_(bindparam("ids", expanding=True)))


def record_spend(conn: Connection, usages: Iterable[Usage], now: datetime | None = None) -> None:
    """Add these answers to their endpoints' spend of the day and apply the daily budgets (in the
    caller's transaction: the end of a turn)."""
    now = now or utcnow()
    totals: dict[int, list[int]] = {}
    for u in usages:
        t = totals.setdefault(u.endpoint_id, [0, 0, 0])
        t[0] += 1
        t[1] += u.prompt_tokens or 0
        t[2] += u.completion_tokens or 0
    if not totals:
        return
    prices = {int(r[0] or 0): r[1:] for r in conn.execute(_PRICES, {"ids": list(totals)})}
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    # In endpoint order: two turns between the same models, as (A, B) and as (B, A), ending at
    # once would otherwise lock these rows in opposite orders and deadlock on PostgreSQL.
    for endpoint_id, (answers, prompt, completion) in sorted(totals.items()):
        input_price, output_price, _ = prices.get(endpoint_id, (None, None, None))
        cost = answer_cost(prompt, completion, input_price, output_price)
        stmt = insert(Spend).values(
            endpoint_id=endpoint_id,
            day=now.date(),
            answers=answers,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=cost,
        )
        new = stmt.excluded
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[col(Spend.endpoint_id), col(Spend.day)],
                set_={
                    "answers": col(Spend.answers) + new.answers,
                    "prompt_tokens": col(Spend.prompt_tokens) + new.prompt_tokens,
                    "completion_tokens": col(Spend.completion_tokens) + new.completion_tokens,
                    "cost": case(
                        (new.cost.is_(None), col(Spend.cost)),
                        else_=func.coalesce(col(Spend.cost), 0.0) + new.cost,
                    ),
                },
            )
        )
    budgeted = [i for i, p in prices.items() if p[2] is not None]
    if budgeted:
        apply_budgets(conn, budgeted, now)


def apply_budgets(conn: Connection, endpoint_ids: list[int], now: datetime | None = None) -> None:
    """Stop drawing, until the next UTC midnight, each of these endpoints whose spend today has
    reached its daily budget; lift the stop from those under it (a budget raised today)."""
    now = now or utcnow()
    rows = conn.execute(
        sa_select(col(Endpoint.id), col(Endpoint.daily_budget), col(Spend.cost))
        .select_from(Endpoint)
        .outerjoin(
            Spend, (col(Spend.endpoint_id) == col(Endpoint.id)) & (col(Spend.day) == now.date())
        )
        .where(col(Endpoint.id).in_(endpoint_ids))
    ).all()
    over = [int(i or 0) for i, budget, cost in rows if over_budget(budget, cost)]
    under = [int(i or 0) for i, budget, cost in rows if not over_budget(budget, cost)]
    if over:
        conn.execute(
            update(Endpoint)
            .where(col(Endpoint.id).in_(over))
            .values(over_budget_until=next_midnight(now))
        )
    if under:
        conn.execute(
            update(Endpoint)
            .where(col(Endpoint.id).in_(under), col(Endpoint.over_budget_until).is_not(None))
            .values(over_budget_until=None)
        )


def over_budget(budget: float | None, cost: float | None) -> bool:
    """Whether a day's cost has reached the budget (no budget or no cost: never)."""
    return budget is not None and cost is not None and cost >= budget


def within_budget(endpoint: Endpoint, now: datetime) -> bool:
    """Whether the budget lets an endpoint be drawn now (its stop ends at the next midnight)."""
    return endpoint.over_budget_until is None or endpoint.over_budget_until <= now


def spent_today(session: Session, now: datetime | None = None) -> dict[int, Spend]:
    """Each endpoint's spend row of the current UTC day."""
    today = (now or utcnow()).date()
    return {s.endpoint_id: s for s in session.exec(select(Spend).where(Spend.day == today))}


def spend_by_day(session: Session, *, since: date) -> list[Spend]:
    """The spend rows from `since` on, newest day first."""
    return list(
        session.exec(
            select(Spend)
            .where(col(Spend.day) >= since)
            .order_by(col(Spend.day).desc(), col(Spend.endpoint_id))
        )
    )
