"""Re-tagging stored votes, so that older votes join new categories (`arena categories retag`).

With the rules, votes are re-tagged in id order a batch at a time; each batch commits together
with a checkpoint (the last id done) in the Meta table, so an interrupted run resumes where it
stopped. With the LLM tagger, the votes' prompts are queued in the tagger's work list (which lives
in the database and is itself resumable) and classified in the foreground.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from arena.store.engine import session_scope
from arena.store.tables import Answer, Meta, PromptTag, Turn, Vote
from arena.votes.category_bits import bits_of
from arena.votes.llm_tagger import TaggerCall
from arena.votes.tag_jobs import apply_to_votes, bump_tags_version, enqueue
from arena.votes.tag_worker import TaggerRules, tag_round
from arena.votes.tags import conversation_tags

BATCH = 500
Progress = Callable[[int, int], None]  # (done now, total)


def _since(since: date | None) -> datetime:
    return datetime.combine(since or date.min, time.min)


def checkpoint_key(since: date | None) -> str:
    """The Meta key of a rules re-tag's checkpoint."""
    return f"retag:rules:{since.isoformat() if since else 'all'}"


def _conversations(session: Session, battle_ids: list[str]) -> dict[str, Any]:
    """Each battle's prompts and both sides' answers, turn by turn."""
    turns = session.exec(
        select(Turn).where(col(Turn.battle_id).in_(battle_ids)).order_by(col(Turn.index))
    ).all()
    answers = session.exec(
        select(Answer).where(col(Answer.turn_id).in_([t.id for t in turns]))
    ).all()
    by_key = {(a.turn_id, a.side): a.content for a in answers}
    out: dict[str, Any] = {b: ([], {"a": [], "b": []}) for b in battle_ids}
    for t in turns:
        prompts, sides = out[t.battle_id]
        prompts.append(t.prompt)
        for s in ("a", "b"):
            sides[s].append(by_key.get((t.id or 0, s), ""))
    return out


def retag_rules(
    engine: Engine, *, since: date | None, hard_threshold: int, progress: Progress | None = None
) -> int:
    """Re-tag the votes cast since `since` with the rules; returns how many changed."""
    key = checkpoint_key(since)
    start = _since(since)
    with session_scope(engine) as session:
        row = session.get(Meta, key)
        last = int(row.value) if row else 0
        total = session.exec(
            select(func.count()).select_from(Vote).where(col(Vote.created_at) >= start)
        ).one()
        done = session.exec(
            select(func.count())
            .select_from(Vote)
            .where(col(Vote.created_at) >= start, col(Vote.id) <= last)
        ).one()
    if progress:
        progress(done, total)
    changed = 0
    while True:
        with session_scope(engine) as session:
            votes = session.exec(
                select(Vote)
                .where(col(Vote.created_at) >= start, col(Vote.id) > last)
                .order_by(col(Vote.id))
                .limit(BATCH)
            ).all()
            if not votes:
                break
            talks = _conversations(session, [v.battle_id for v in votes])
            for v in votes:
                prompts, sides = talks[v.battle_id]
                if not prompts:
                    continue  # a vote without its conversation keeps what it has
                names = conversation_tags(prompts, sides["a"], sides["b"], hard_threshold)
                # Labels the rules do not make (an imported file's own category) stay.
                names += [c for c in v.categories if not bits_of([c]) and c not in names]
                bits = bits_of(names)
                if bits != v.category_bits or names != v.categories:
                    v.categories, v.category_bits = names, bits
                    session.add(v)
                    changed += 1
            last = int(votes[-1].id or 0)
            session.merge(Meta(key=key, value=str(last)))
            if changed:
                bump_tags_version(session)
        done += len(votes)
        if progress:
            progress(done, total)
    with session_scope(engine) as session:
        row = session.get(Meta, key)
        if row is not None:
            session.delete(row)
    return changed


def queue_for_llm(engine: Engine, *, since: date | None) -> list[str]:
    """Queue the prompts of the votes since `since` for the LLM (failed ones get a new try)."""
    start = _since(since)
    with session_scope(engine) as session:
        found = list(
            session.exec(
                select(col(Vote.prompt_hash))
                .where(col(Vote.created_at) >= start, col(Vote.prompt_hash).is_not(None))
                .distinct()
            ).all()
        )
    hashes = [h for h in found if h]
    for i in range(0, len(hashes), BATCH):
        with session_scope(engine) as session:
            enqueue(session, hashes[i : i + BATCH], retry_failed=True)
            # Answers already cached apply at once.
            done = session.exec(
                select(PromptTag).where(
                    col(PromptTag.prompt_hash).in_(hashes[i : i + BATCH]),
                    col(PromptTag.status) == "done",
                )
            ).all()
            if sum(apply_to_votes(session, t.prompt_hash, t.bits or 0) for t in done):
                bump_tags_version(session)
    return hashes


def _open(engine: Engine, hashes: list[str]) -> int:
    with session_scope(engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(PromptTag)
                .where(
                    col(PromptTag.prompt_hash).in_(hashes),
                    col(PromptTag.status).in_(["pending", "working"]),
                )
            ).one()
        )


async def retag_llm(
    engine: Engine,
    call: TaggerCall,
    rules: TaggerRules,
    *,
    since: date | None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Classify the prompts of the votes since `since`; returns (answered, failed for good)."""
    hashes = await asyncio.to_thread(queue_for_llm, engine, since=since)
    answered = 0
    while True:
        waiting = 0
        for i in range(0, len(hashes), BATCH):
            waiting += await asyncio.to_thread(_open, engine, hashes[i : i + BATCH])
        if progress:
            progress(len(hashes) - waiting, len(hashes))
        if not waiting:
            break
        # Any waiting prompt, ours or a voter's: the list is one for all.
        got, failed = await tag_round(engine, call, rules)
        answered += got
        if not got and not failed:
            await asyncio.sleep(rules.poll_seconds)  # the rest is held by another worker
    with session_scope(engine) as session:
        gave_up = session.exec(
            select(func.count())
            .select_from(PromptTag)
            .where(col(PromptTag.prompt_hash).in_(hashes), col(PromptTag.status) == "failed")
        ).one()
    return answered, int(gave_up)
