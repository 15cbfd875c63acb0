"""`arena prompts run`: every chosen model answers every prompt of a set, then judges compare pairs.

Resumable: each answer is stored the moment it is complete (one row per prompt and model, unique),
and each judgement is a job row like a battle's (`p:<prompt>:<a>:<b>` subjects). A run that dies
is started again with the same command: it asks only for the answers and verdicts still missing.
An answer in flight when the process died is lost and asked for again; a stored one never is.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel import select as sm_select

from arena.core.judge_rules import JudgeRules, JudgeWeights
from arena.judges.calls import Callers
from arena.judges.queue import insert_jobs, job
from arena.judges.worker import JudgeWorker
from arena.store.engine import begin, in_thread, session_scope
from arena.store.judge_tables import Judgement, PromptAnswer, PromptItem
from arena.store.tables import Endpoint
from arena.upstream.client import build_messages
from arena.upstream.failures import UpstreamError

Progress = Callable[[int], None]


@dataclass
class RunReport:
    """What a run did, for the terminal."""

    answers_new: int = 0
    answers_kept: int = 0
    answers_failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    judgements: int = 0
    errors: list[str] = field(default_factory=list)


def endpoints_named(engine: Engine, names: Sequence[str]) -> list[Endpoint]:
    """The endpoints with these names, in that order; LookupError names any unknown one."""
    with session_scope(engine) as session:
        found = {
            e.name: e
            for e in session.exec(sm_select(Endpoint).where(col(Endpoint.name).in_(list(names))))
        }
    missing = [n for n in names if n not in found]
    if missing:
        raise LookupError(f"unknown model(s): {', '.join(missing)} (see `arena models list`)")
    return [found[n] for n in names]


def missing_answers(
    engine: Engine, items: Sequence[PromptItem], models: Sequence[Endpoint]
) -> list[tuple[PromptItem, Endpoint]]:
    """The (prompt, model) pairs without a stored answer."""
    ids = [i.id for i in items]
    with engine.connect() as conn:
        have = {
            (int(a), int(b))
            for a, b in conn.execute(
                select(col(PromptAnswer.item_id), col(PromptAnswer.endpoint_id)).where(
                    col(PromptAnswer.item_id).in_(ids)
                )
            )
        }
    return [(i, m) for i in items for m in models if (i.id, m.id) not in have]


def _store_answer(engine: Engine, values: dict[str, Any]) -> None:
    with begin(engine) as conn:
        insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
        conn.execute(
            insert(PromptAnswer)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["item_id", "endpoint_id"])
        )


async def generate(
    engine: Engine,
    callers: Callers,
    todo: Sequence[tuple[PromptItem, Endpoint]],
    *,
    concurrency: int,
    report: RunReport,
    progress: Progress = lambda n: None,
) -> None:
    """Ask for every missing answer, at most `concurrency` at once, storing each as it ends."""
    gate = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()

    async def one(item: PromptItem, model: Endpoint) -> None:
        async with gate:
            started = loop.time()
            messages = build_messages(model.system_prompt, [], item.prompt)
            try:
                reply = await callers.ask(model, messages)
            except UpstreamError as exc:
                report.answers_failed += 1
                report.errors.append(f"{model.name} on prompt {item.index}: {exc.kind}")
                progress(1)
                return
            await in_thread(
                _store_answer,
                engine,
                {
                    "item_id": item.id,
                    "endpoint_id": model.id,
                    "content": reply.content,
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_ms": (loop.time() - started) * 1000,
                },
            )
            report.answers_new += 1
            report.prompt_tokens += reply.prompt_tokens or 0
            report.completion_tokens += reply.completion_tokens or 0
            progress(1)

    await asyncio.gather(*(one(i, m) for i, m in todo))


def pair_design(
    models: Sequence[int], n_prompts: int, *, all_pairs_max: int, seed: int = 0
) -> list[list[tuple[int, int]]]:
    """Which pairs each prompt is judged on: all pairs up to `all_pairs_max` models; beyond,
    a balanced design of about as many pairs per prompt as there are models, every pair
    getting prompts in turn (the same for the same inputs, so a resumed run asks the same)."""
    pairs = list(itertools.combinations(sorted(models), 2))
    if len(models) <= all_pairs_max:
        return [pairs] * n_prompts
    random.Random(seed).shuffle(pairs)
    k = len(models)
    return [[pairs[(p * k + j) % len(pairs)] for j in range(k)] for p in range(n_prompts)]


def enqueue_pairs(
    engine: Engine,
    items: Sequence[PromptItem],
    models: Sequence[Endpoint],
    judges: Sequence[Endpoint],
    *,
    all_pairs_max: int = 8,
) -> int:
    """Judge jobs (both orders) for each prompt's pairs in the design; returns how many."""
    design = pair_design([m.id or 0 for m in models], len(items), all_pairs_max=all_pairs_max)
    rows = [
        job(f"p:{item.id}:{a}:{b}", j.id or 0, a, b, swapped, prompt_item_id=item.id)
        for item, pairs in zip(items, design, strict=True)
        for a, b in pairs
        for j in judges
        for swapped in (False, True)
    ]
    for start in range(0, len(rows), 500):
        insert_jobs(engine, rows[start : start + 500])
    return len(rows)


async def judge_pairs(
    engine: Engine, callers: Callers, rules: JudgeRules, judges: Sequence[Endpoint]
) -> None:
    """Run the prompt-set jobs of these judges until none is left."""
    worker = JudgeWorker(engine, rules, callers, subjects="p:%")
    await worker.run_until_idle(max_passes=10_000)


def set_battles(
    engine: Engine, set_id: int, weights: JudgeWeights, judges: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """The set's verdicts as battle records (the battle-file format, one per judgement)."""
    with engine.connect() as conn:
        names = {
            int(i or 0): str(n)
            for i, n in conn.execute(select(col(Endpoint.id), col(Endpoint.name)))
        }
        query = (
            select(
                col(Judgement.prompt_item_id),
                col(Judgement.model_a_id),
                col(Judgement.model_b_id),
                col(Judgement.judge_id),
                col(Judgement.swapped),
                col(Judgement.verdict),
                col(Judgement.outcome),
                col(PromptItem.category),
            )
            .join(PromptItem, col(PromptItem.id) == col(Judgement.prompt_item_id))
            .where(col(PromptItem.set_id) == set_id, col(Judgement.status) == "done")
            .order_by(col(Judgement.id))
        )
        if judges:
            query = query.where(col(Judgement.judge_id).in_(list(judges)))
        rows = conn.execute(query).all()
    return [
        {
            "model_a": names[a],
            "model_b": names[b],
            "winner": outcome,
            "question_id": f"{item}",
            "judge": names[j],
            "swapped": bool(swapped),
            "verdict": verdict,
            "weight": weights.strong if verdict in ("A>>B", "B>>A") else 1.0,
            "category": category,
            "anony": True,
        }
        for item, a, b, j, swapped, verdict, outcome, category in rows
        if outcome is not None and j not in (a, b)
    ]
