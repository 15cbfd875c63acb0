"""Helpers for the LLM-judge tests: endpoints on the fake upstream, finished battles, a worker."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.core.judge_rules import JudgeRules
from arena.core.rules import Timeouts
from arena.judges.calls import Callers
from arena.judges.worker import JudgeWorker
from arena.store.judge_tables import Judgement
from arena.store.tables import Answer, Battle, Endpoint, Turn, Vote

FAST = JudgeRules(poll_seconds=0.1, concurrency=4, max_attempts=2, retry_seconds=0.0)


def add_endpoints(engine: Engine, base_url: str, **judges: bool) -> dict[str, int]:
    """Endpoints named by the keywords (True: a judge), on the fake; returns name → id."""
    with Session(engine) as s:
        for name, judge in judges.items():
            s.add(
                Endpoint(
                    name=name, base_url=base_url, model=f"up-{name}", judge=judge, enabled=not judge
                )
            )
        s.commit()
        return {e.name: e.id or 0 for e in s.exec(select(Endpoint)).all()}


def add_battle(
    engine: Engine,
    a: int,
    b: int,
    *,
    prompt: str = "Say hello",
    answer_a: str = "answer of a",
    answer_b: str = "answer of b",
    winner: str | None = None,
    status: str = "ready",
) -> str:
    """A finished battle (one turn, both answers done), with a counted vote when `winner`."""
    bid = uuid.uuid4().hex
    with Session(engine) as s:
        s.add(Battle(id=bid, voter_id="v-" + bid[:6], model_a_id=a, model_b_id=b, status=status))
        s.flush()
        turn = Turn(battle_id=bid, prompt=prompt, status="done")
        s.add(turn)
        s.flush()
        for side, e, text in (("a", a, answer_a), ("b", b, answer_b)):
            s.add(
                Answer(turn_id=turn.id or 0, side=side, endpoint_id=e, status="done", content=text)
            )
        if winner is not None:
            s.add(
                Vote(
                    battle_id=bid,
                    winner=winner,
                    voter_id="v-" + bid[:6],
                    model_a_id=a,
                    model_b_id=b,
                    prompt_hash=uuid.uuid4().hex,
                )
            )
        s.commit()
    return bid


def worker(engine: Engine, rules: JudgeRules = FAST) -> JudgeWorker:
    """A judge worker on the fake upstream, with short timeouts and no client retries."""
    timeouts = Timeouts(connect=5, first_token=10, stall=10, total=30, retries=0)
    return JudgeWorker(engine, rules, Callers(timeouts))


def judge_all(engine: Engine, rules: JudgeRules = FAST) -> None:
    """Run a worker until nothing is left to judge."""

    async def go() -> None:
        w = worker(engine, rules)
        await w.run_until_idle()
        await w.callers.close()

    asyncio.run(go())


def judgements(engine: Engine, **where: Any) -> list[Judgement]:
    """Judgement rows, oldest first."""
    with Session(engine) as s:
        q = select(Judgement).order_by(Judgement.id)  # type: ignore[arg-type]
        for k, v in where.items():
            q = q.where(getattr(Judgement, k) == v)
        return list(s.exec(q).all())
