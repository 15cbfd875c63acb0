"""Judge jobs in the database: enqueued by any worker, claimed by exactly one.

A job is a `Judgement` row. Enqueueing inserts with ON CONFLICT DO NOTHING on (subject, judge,
order), so workers racing to enqueue the same battle make one row. Claiming is one conditional
UPDATE per row (`… WHERE id = ? AND status = 'pending'`): of several workers sharing a database
only the one whose update changed the row calls the judge. A row left `running` by a worker that
died is handed back after `lease`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel import select as sm_select

from arena.store.engine import begin, session_scope
from arena.store.images import with_images
from arena.store.judge_tables import Judgement
from arena.store.tables import Battle, Endpoint, utcnow

FINISHED_BATTLE = ("ready", "voted")


def battle_subject(battle_id: str) -> str:
    """The subject of a battle's judgements."""
    return f"b:{battle_id}"


def active_judges(engine: Engine) -> list[Endpoint]:
    """Judge endpoints that are not retired."""
    with session_scope(engine) as session:
        return list(
            session.exec(
                sm_select(Endpoint).where(col(Endpoint.judge), ~col(Endpoint.retired))
            ).all()
        )


def insert_jobs(engine: Engine, rows: Iterable[dict[str, Any]]) -> int:
    """Insert judge jobs, skipping those that exist; returns how many rows were offered."""
    rows = list(rows)
    if not rows:
        return 0
    with begin(engine) as conn:
        insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
        conn.execute(
            insert(Judgement)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["subject", "judge_id", "swapped"])
        )
    return len(rows)


def job(subject: str, judge_id: int, a: int, b: int, swapped: bool, **extra: Any) -> dict[str, Any]:
    """The values of one new job row."""
    now = utcnow()
    return {
        "subject": subject,
        "judge_id": judge_id,
        "model_a_id": a,
        "model_b_id": b,
        "swapped": swapped,
        "status": "pending",
        "attempts": 0,
        "not_before": now,
        "prompt": "",
        "strong": False,
        "categories": [],
        "style": [],
        "created_at": now,
        **extra,
    }


def enqueue_battles(engine: Engine, judges: list[Endpoint], limit: int = 200) -> int:
    """Two jobs (both orders) per judge for each finished battle it has not been asked about,
    newest battles first; returns how many jobs were offered."""
    offered = 0
    for j in judges:
        assert j.id is not None
        done = select(col(Judgement.id)).where(
            col(Judgement.battle_id) == col(Battle.id), col(Judgement.judge_id) == j.id
        )
        query = select(col(Battle.id), col(Battle.model_a_id), col(Battle.model_b_id)).where(
            col(Battle.status).in_(FINISHED_BATTLE), ~done.exists()
        )
        if not j.vision:  # a judge that cannot see images is not asked about battles with some
            query = query.where(~with_images(col(Battle.id)))
        with begin(engine) as conn:
            battles = conn.execute(query.order_by(col(Battle.created_at).desc()).limit(limit)).all()
        offered += insert_jobs(
            engine,
            (
                job(battle_subject(bid), j.id, a, b, swapped, battle_id=bid)
                for bid, a, b in battles
                for swapped in (False, True)
            ),
        )
    return offered


def calls_today(engine: Engine, judge_id: int) -> int:
    """Calls made to a judge in the last 24 hours (every claimed attempt counts)."""
    with begin(engine) as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    col(Judgement.judge_id) == judge_id,
                    col(Judgement.claimed_at) >= utcnow() - timedelta(days=1),
                )
            ).scalar_one()
        )


def release_stale(engine: Engine, lease: timedelta) -> int:
    """Hand back jobs whose worker died while running them."""
    with begin(engine) as conn:
        result: Any = conn.execute(
            update(Judgement)
            .where(
                col(Judgement.status) == "running",
                col(Judgement.claimed_at) < utcnow() - lease,
            )
            .values(status="pending")
        )
        return int(result.rowcount)


def claim(
    engine: Engine,
    judge_id: int,
    n: int,
    *,
    subjects_like: str | None = None,
) -> list[int]:
    """Claim up to `n` due pending jobs of one judge; returns the ids this worker now owns."""
    if n <= 0:
        return []
    now = utcnow()
    where = [
        col(Judgement.judge_id) == judge_id,
        col(Judgement.status) == "pending",
        col(Judgement.not_before) <= now,
    ]
    if subjects_like is not None:
        where.append(col(Judgement.subject).like(subjects_like))
    with begin(engine) as conn:
        found = conn.execute(
            select(col(Judgement.id)).where(and_(*where)).order_by(col(Judgement.id)).limit(n)
        )
        ids = [int(i or 0) for i in found.scalars()]
    owned: list[int] = []
    for job_id in ids:
        with begin(engine) as conn:
            result: Any = conn.execute(
                update(Judgement)
                .where(col(Judgement.id) == job_id, col(Judgement.status) == "pending")
                .values(status="running", claimed_at=now, attempts=col(Judgement.attempts) + 1)
            )
            if result.rowcount == 1:
                owned.append(job_id)
    return owned
