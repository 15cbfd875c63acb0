"""The LLM tagger's work list in the database: queued at vote time, claimed by any worker.

A prompt (by `Vote.prompt_hash`) is one row of PromptTag. Casting a vote only inserts that row
(or, when the tagger already answered for the same prompt, uses its answer at once): the voter
never waits for a model. A worker claims rows with a conditional UPDATE and a lease, so several
workers (and `arena categories retag`) share the list without taking the same prompt twice, and a
worker that dies leaves its claims to the others when the lease runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from arena.store.engine import session_scope
from arena.store.tables import Counter, PromptTag, Turn, Vote, utcnow
from arena.votes.category_bits import bits_of, merge_capabilities, names_of
from arena.votes.tags import conversation_tags
from arena.votes.version import bump_votes_version

#: A counter bumped whenever stored tags of older votes change (vote caches re-read the bits).
TAGS_VERSION = "tags"


def vote_tags(
    session: Session,
    prompts: list[str],
    sides: dict[str, list[str]],
    first_hash: str | None,
    *,
    hard_threshold: int,
    queue_for_llm: bool,
) -> tuple[list[str], int]:
    """A new vote's category names and bits: the rules', or the LLM's answer for this prompt."""
    names = conversation_tags(prompts, sides["a"], sides["b"], hard_threshold)
    bits = bits_of(names)
    if first_hash is None or not queue_for_llm:
        return names, bits
    row = session.get(PromptTag, first_hash)
    if row is not None and row.status == "done" and row.bits is not None:
        bits = merge_capabilities(bits, row.bits)
        return names_of(bits), bits
    if row is None:
        enqueue(session, [first_hash])
    return names, bits


def enqueue(session: Session, hashes: list[str], *, retry_failed: bool = False) -> None:
    """Queue prompts for the LLM tagger (those already queued or answered stay as they are)."""
    if not hashes:
        return
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    now = utcnow()
    rows = [
        {"prompt_hash": h, "status": "pending", "criteria": {}, "attempts": 0, "updated_at": now}
        for h in dict.fromkeys(hashes)
    ]
    session.execute(insert(PromptTag).values(rows).on_conflict_do_nothing())
    if retry_failed:
        session.execute(
            update(PromptTag)
            .where(col(PromptTag.prompt_hash).in_(hashes), col(PromptTag.status) == "failed")
            .values(status="pending", attempts=0, error=None, updated_at=now)
        )


@dataclass(frozen=True)
class Claimed:
    """A prompt this worker holds: classify it, then finish or fail it."""

    prompt_hash: str
    prompt: str
    attempts: int


def _claimable(now: Any) -> Any:
    return or_(
        col(PromptTag.status) == "pending",
        (col(PromptTag.status) == "working") & (col(PromptTag.claimed_until) < now),
    )


def claim(
    engine: Engine, limit: int, lease: timedelta, only: list[str] | None = None
) -> list[Claimed]:
    """Take up to `limit` waiting prompts (each taken by exactly one worker)."""
    now = utcnow()
    taken: list[Claimed] = []
    # Each pass changes every candidate (taken here, by another worker, or given up), so it ends.
    while len(taken) < limit:
        with session_scope(engine) as session:
            query = select(col(PromptTag.prompt_hash)).where(_claimable(now))
            if only is not None:
                query = query.where(col(PromptTag.prompt_hash).in_(only))
            candidates = list(session.exec(query.limit(limit * 2)).all())
        if not candidates:
            break
        taken += _take(engine, candidates, limit - len(taken), now, lease)
    return taken


def _take(
    engine: Engine, candidates: list[str], limit: int, now: Any, lease: timedelta
) -> list[Claimed]:
    taken: list[Claimed] = []
    for h in candidates:
        if len(taken) >= limit:
            break
        with session_scope(engine) as session:
            moved = session.execute(
                update(PromptTag)
                .where(col(PromptTag.prompt_hash) == h, _claimable(now))
                .values(
                    status="working",
                    claimed_until=now + lease,
                    attempts=PromptTag.attempts + 1,
                    updated_at=now,
                )
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another worker was quicker
            prompt = session.exec(
                select(Turn.prompt)
                .join(Vote, col(Vote.battle_id) == col(Turn.battle_id))
                .where(col(Vote.prompt_hash) == h, col(Turn.index) == 0)
                .limit(1)
            ).first()
            row = session.get(PromptTag, h)
            attempts = row.attempts if row else 1
            if prompt is None:  # the votes of this prompt are gone: nothing to tag
                session.execute(
                    update(PromptTag)
                    .where(col(PromptTag.prompt_hash) == h)
                    .values(status="failed", error="no vote has this prompt", claimed_until=None)
                )
                continue
        taken.append(Claimed(h, prompt, attempts))
    return taken


def finish(engine: Engine, answers: list[tuple[str, str, int, dict[str, bool]]]) -> int:
    """Store answers (hash, tagger, capability bits, criteria) and re-tag their votes.

    Returns how many votes changed; one transaction, one bump of the versions for all."""
    if not answers:
        return 0
    changed = 0
    now = utcnow()
    with session_scope(engine) as session:
        for h, tagger, bits, criteria in answers:
            session.execute(
                update(PromptTag)
                .where(col(PromptTag.prompt_hash) == h)
                .values(
                    status="done",
                    tagger=tagger,
                    bits=bits,
                    criteria=criteria,
                    claimed_until=None,
                    error=None,
                    updated_at=now,
                )
            )
            changed += apply_to_votes(session, h, bits)
        if changed:
            bump_tags_version(session)
    return changed


def apply_to_votes(session: Session, prompt_hash: str, capability_bits: int) -> int:
    """Give every vote of a prompt these capability bits; returns how many changed."""
    changed = 0
    for vote in session.exec(select(Vote).where(col(Vote.prompt_hash) == prompt_hash)).all():
        bits = merge_capabilities(vote.category_bits, capability_bits)
        if bits != vote.category_bits:
            extra = [c for c in vote.categories if not bits_of([c])]  # e.g. an imported label
            vote.category_bits = bits
            vote.categories = names_of(bits) + extra
            session.add(vote)
            changed += 1
    return changed


def fail(engine: Engine, prompt_hash: str, error: str, retries: int) -> None:
    """Give a claimed prompt back (or give up on it after `retries` further tries)."""
    with session_scope(engine) as session:
        row = session.get(PromptTag, prompt_hash)
        if row is None:
            return
        row.status = "pending" if row.attempts <= retries else "failed"
        row.error = error[:500]
        row.claimed_until = None
        row.updated_at = utcnow()
        session.add(row)


def bump_tags_version(session: Session) -> None:
    """Note that stored tags changed: caches re-read the bits, boards are recomputed."""
    updated = session.execute(
        update(Counter).where(col(Counter.name) == TAGS_VERSION).values(value=Counter.value + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(Counter(name=TAGS_VERSION, value=1))
    bump_votes_version(session)
