"""One judge job from start to end: what is judged, the call, the verdict, the retry or the record.

A failure of the judge is the judge's business only: it is retried with backoff, counted by the
circuit breaker of the judge's endpoint, and after the last attempt recorded as failed. Nothing
here touches the battle, its votes or its voter.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from arena.core.judge_rules import JudgeRules
from arena.images.clean import data_uri
from arena.judges.calls import Callers
from arena.judges.prompt import JudgedTurn, judge_messages, shown_text
from arena.judges.verdicts import verdict
from arena.store.breaker import record_failure, record_successes
from arena.store.engine import begin, session_scope
from arena.store.images import image_data, turn_image_refs
from arena.store.judge_tables import Judgement, PromptAnswer, PromptItem
from arena.store.tables import Answer, Endpoint, Turn, utcnow
from arena.upstream.failures import UpstreamError
from arena.votes.tags import conversation_tags, style_vector

log = logging.getLogger("arena.judges")


#: Why a battle's job is not run: the judge would rank answers about images it cannot see.
BLIND = "the battle's prompts carry images and this judge cannot see them (vision = false)"
GONE = "the battle's images are no longer stored (image retention), so it cannot be judged"


def conversation(engine: Engine, job: Judgement, *, vision: bool = False) -> list[JudgedTurn] | str:
    """The turns a job judges, in the battle's orientation; or why it cannot be judged (a battle
    with images, for a judge without `vision`, or whose images retention has deleted)."""
    with session_scope(engine) as session:
        if job.battle_id is not None:
            turns = session.exec(
                select(Turn).where(Turn.battle_id == job.battle_id).order_by(col(Turn.index))
            ).all()
            refs = turn_image_refs(session, [t.id for t in turns if t.id is not None])
            if refs and not vision:
                return BLIND
            stored = image_data(session, (sha for imgs in refs.values() for sha, _ in imgs))
            out: list[JudgedTurn] = []
            for t in turns:
                answers = {
                    a.side: a.content
                    for a in session.exec(select(Answer).where(Answer.turn_id == t.id)).all()
                    if a.status == "done"
                }
                shas = [sha for sha, _ in refs.get(t.id or 0, [])]
                if any(sha not in stored for sha in shas):
                    return GONE
                if "a" in answers and "b" in answers:
                    images = tuple(data_uri(*stored[sha]) for sha in shas)
                    out.append(JudgedTurn(t.prompt, answers["a"], answers["b"], images))
            return out
        item = session.get(PromptItem, job.prompt_item_id)
        if item is None:
            return []
        got = {
            p.endpoint_id: p.content
            for p in session.exec(select(PromptAnswer).where(PromptAnswer.item_id == item.id))
        }
        if job.model_a_id in got and job.model_b_id in got:
            return [JudgedTurn(item.prompt, got[job.model_a_id], got[job.model_b_id])]
        return []


async def run_job(
    engine: Engine,
    callers: Callers,
    job_id: int,
    system_prompt: str,
    rules: JudgeRules,
    *,
    breaker_failures: int = 3,
    breaker_pause: timedelta = timedelta(minutes=10),
) -> str:
    """Run one claimed job; returns its new status (done, pending for a retry, or failed)."""
    with session_scope(engine) as session:
        job = session.get(Judgement, job_id)
        judge = session.get(Endpoint, job.judge_id) if job is not None else None
    if job is None or judge is None:
        return "failed"
    turns = conversation(engine, job, vision=judge.vision)
    if isinstance(turns, str) or not turns:
        _record(engine, job_id, status="failed", error=turns or "nothing complete to judge")
        return "failed"
    messages = judge_messages(system_prompt, turns, swapped=job.swapped)
    prompt_text = shown_text(messages[-1]["content"])
    try:
        reply = await callers.ask(judge, messages)
    except UpstreamError as exc:
        detail = f"{exc.kind}: {exc.detail}"[:2000]
        record_failure(engine, judge.id or 0, detail, breaker_failures, breaker_pause)
        if job.attempts >= rules.max_attempts:
            _record(engine, job_id, status="failed", error=detail, prompt=prompt_text)
            return "failed"
        delay = rules.retry_seconds * 2 ** max(job.attempts - 1, 0)
        _record(
            engine,
            job_id,
            status="pending",
            error=detail,
            not_before=utcnow() + timedelta(seconds=delay),
            finished=False,
        )
        return "pending"
    v = verdict(reply.content, swapped=job.swapped)
    answers_a, answers_b = [t.a for t in turns], [t.b for t in turns]
    _record(
        engine,
        job_id,
        status="done",
        prompt=prompt_text,
        reply=reply.content,
        verdict=v.label if v else None,
        outcome=v.outcome if v else None,
        strong=bool(v and v.strong),
        categories=conversation_tags([t.prompt for t in turns], answers_a, answers_b),
        style=style_vector(answers_a, answers_b),
        error=None if v else "no verdict label in the reply",
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
    )
    with begin(engine) as conn:
        record_successes(conn, [judge.id or 0])
    return "done"


def _record(engine: Engine, job_id: int, *, finished: bool = True, **values: object) -> None:
    with session_scope(engine) as session:
        job = session.get(Judgement, job_id)
        if job is None:
            return
        for k, v in values.items():
            setattr(job, k, v)
        if finished:
            job.finished_at = utcnow()
        session.add(job)
