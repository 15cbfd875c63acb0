"""Votes and daily snapshots written straight into a test database (no battles are played)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.store.engine import begin
from arena.store.tables import Battle, Endpoint, Vote
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.history import record_snapshot
from ratings import Battles

LABELS = ("model_a", "model_b", "tie", "tie (bothbad)")


def endpoint_ids(engine: Engine, names: list[str]) -> dict[str, int]:
    """Ids of these endpoints, creating the missing ones."""
    with Session(engine) as s:
        have = {e.name: e for e in s.exec(select(Endpoint)).all()}
        for n in names:
            if n not in have:
                have[n] = Endpoint(name=n, base_url="http://127.0.0.1:9/v1", model=n)
                s.add(have[n])
        s.commit()
        return {n: int(have[n].id or 0) for n in names}


def seed_votes(
    engine: Engine,
    battles: Battles,
    *,
    start: int = 0,
    voter: str | None = None,
    when: datetime | None = None,
) -> None:
    """One counted anonymous vote per battle (each from its own voter unless `voter` is given)."""
    ids = endpoint_ids(engine, battles.names)
    rows: list[object] = []
    for k in range(len(battles)):
        n = start + k
        a, b = ids[battles.names[battles.model_a[k]]], ids[battles.names[battles.model_b[k]]]
        who = voter or f"voter-{n}"
        extra = {"created_at": when} if when else {}
        rows.append(Battle(id=f"seed{n}", voter_id=who, model_a_id=a, model_b_id=b, status="voted"))
        rows.append(
            Vote(
                battle_id=f"seed{n}",
                winner=LABELS[int(battles.outcome[k])],
                voter_id=who,
                model_a_id=a,
                model_b_id=b,
                **extra,
            )
        )
    with Session(engine) as s:
        s.add_all(rows[0::2])
        s.flush()
        s.add_all(rows[1::2])
        s.commit()


def snapshot(engine: Engine, day: datetime, config: RankingConfig) -> None:
    """The default board as of now, stored as the snapshot of `day` (as the refresher does)."""
    opts = LeaderboardOptions()
    payload = compute_payload(engine, opts, config)
    with begin(engine) as conn:
        record_snapshot(conn, opts.key(), payload, day)


def days_ago(n: int) -> datetime:
    """Midday UTC `n` days ago."""
    return datetime.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=n)
