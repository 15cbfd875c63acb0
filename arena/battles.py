"""Battle bookkeeping in the database: create, follow-up turns, state for the voter, the vote.

Plain synchronous functions over an engine, each one short transaction; the routes call them in a
thread. Every state change that two workers could race on is a conditional UPDATE whose row count
decides who won, so the database, not process memory, is the single source of truth.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from arena.db import session_scope
from arena.endpoints import drawable_endpoints
from arena.errors import BattleError as BattleError
from arena.limits import Limits, check
from arena.matchmaking import NotEnoughModels, draw_battle_pair
from arena.pairing import PairingCache, matchmaking_inputs
from arena.settings import Settings
from arena.tables import Answer, Battle, Endpoint, Turn, Vote, utcnow

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
Winner = Literal["model_a", "model_b", "tie", "tie (bothbad)"]
SIDES = ("a", "b")


def new_battle_id() -> str:
    """An unguessable battle id."""
    return secrets.token_hex(12)


@dataclass(frozen=True)
class NewTurn:
    """A turn just stored as claimed: what its generator needs, without reading it back."""

    battle_id: str
    voter_id: str
    turn_id: int
    index: int
    prompt: str
    answers: dict[str, int]  # side -> Answer.id
    endpoints: dict[str, Endpoint]  # side -> its model (detached)


def create_battle(
    engine: Engine,
    *,
    voter_id: str,
    prompt: str,
    client_ip: str | None = None,
    rng: random.Random | None = None,
    limits: Limits | None = None,
    settings: Settings | None = None,
    pairing: PairingCache | None = None,
) -> NewTurn:
    """Draw two models, store the battle with its first turn claimed by the caller, who
    generates it right away (no separate claiming transaction)."""
    rng = rng or random.Random()
    with session_scope(engine) as session:
        if limits is not None:
            check(session, what="battles", voter_id=voter_id, client_ip=client_ip, limits=limits)
        endpoints = [e for e in drawable_endpoints(session) if e.id is not None]
        candidates, policy, stats = matchmaking_inputs(session, settings, endpoints, pairing)
        try:
            a, b = draw_battle_pair(candidates, policy, rng, stats)
        except NotEnoughModels:
            raise BattleError(
                409,
                "The arena needs at least two enabled models to start a battle; "
                "an admin can add or enable them at /admin or with `arena models add`.",
            ) from None
        battle = Battle(
            id=new_battle_id(),
            voter_id=voter_id,
            client_ip=client_ip,
            model_a_id=a,
            model_b_id=b,
            status="streaming",
        )
        session.add(battle)
        turn_id, answers = _add_turn(session, battle, index=0, prompt=prompt, claim=True)
        by_id = {e.id: e for e in endpoints}
        return NewTurn(
            battle.id, voter_id, turn_id, 0, prompt, answers, {"a": by_id[a], "b": by_id[b]}
        )


def _add_turn(
    session: Session, battle: Battle, *, index: int, prompt: str, claim: bool
) -> tuple[int, dict[str, int]]:
    """Store a turn and its two empty answers; returns the turn id and the answer ids."""
    turn = Turn(battle_id=battle.id, index=index, prompt=prompt)
    if claim:
        turn.status = "streaming"
        turn.claimed_at = turn.heartbeat_at = utcnow()
    session.add(turn)
    session.flush()
    assert turn.id is not None
    answers = {
        "a": Answer(turn_id=turn.id, side="a", endpoint_id=battle.model_a_id),
        "b": Answer(turn_id=turn.id, side="b", endpoint_id=battle.model_b_id),
    }
    session.add_all(answers.values())
    session.flush()
    return turn.id, {side: a.id or 0 for side, a in answers.items()}


def owned_battle(session: Session, battle_id: str, voter_id: str) -> Battle:
    """The battle, if it exists (404) and belongs to this voter (403)."""
    battle = session.get(Battle, battle_id)
    if battle is None:
        raise BattleError(404, "No such battle.")
    if battle.voter_id != voter_id:
        raise BattleError(403, "This battle belongs to another voter.")
    return battle


def add_turn(
    engine: Engine,
    *,
    battle_id: str,
    voter_id: str,
    prompt: str,
    max_turns: int,
    claim: bool = False,
) -> int:
    """Store a follow-up prompt for both sides; returns the new turn's index."""
    with session_scope(engine) as session:
        battle = owned_battle(session, battle_id, voter_id)
        if battle.status == "voted":
            raise BattleError(409, "This battle has been voted on; start a new round.")
        if battle.status == "failed":
            raise BattleError(409, "This battle failed; start a new round.")
        count = len(session.exec(select(Turn.id).where(Turn.battle_id == battle_id)).all())
        if count >= max_turns:
            raise BattleError(409, f"A battle has at most {max_turns} turns; please vote.")
        moved = session.execute(
            update(Battle)
            .where(col(Battle.id) == battle_id, col(Battle.status) == "ready")
            .values(status="streaming" if claim else "pending", updated_at=utcnow())
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise BattleError(409, "Both answers must finish before a follow-up question.")
        _add_turn(session, battle, index=count, prompt=prompt, claim=claim)
        return count


@dataclass(frozen=True)
class SideView:
    """What the voter may see of one side of one turn."""

    content: str
    reasoning: str | None
    error: str | None
    status: str


@dataclass(frozen=True)
class TurnView:
    """One turn as the voter sees it."""

    index: int
    prompt: str
    status: str
    a: SideView
    b: SideView


@dataclass(frozen=True)
class BattleView:
    """A battle as its voter sees it: model names only once voted."""

    battle_id: str
    status: str
    turns: list[TurnView]
    model_a: str | None
    model_b: str | None
    winner: str | None
    leaked: bool

    def public(self) -> dict[str, Any]:
        """The contract's JSON shape of `GET /api/battles/{id}`."""
        status = "streaming" if self.status == "pending" else self.status
        return {
            "battle_id": self.battle_id,
            "status": status,
            "turns": [
                {
                    "prompt": t.prompt,
                    **{
                        s: {"content": v.content, "reasoning": v.reasoning, "error": v.error}
                        for s, v in (("a", t.a), ("b", t.b))
                    },
                }
                for t in self.turns
            ],
            "model_a": self.model_a,
            "model_b": self.model_b,
            "winner": self.winner,
        }


def battle_view(engine: Engine, *, battle_id: str, voter_id: str) -> BattleView:
    """The voter's view of their battle."""
    with session_scope(engine) as session:
        battle = owned_battle(session, battle_id, voter_id)
        turns = session.exec(
            select(Turn).where(Turn.battle_id == battle_id).order_by(col(Turn.index))
        ).all()
        answers = session.exec(
            select(Answer).where(col(Answer.turn_id).in_([t.id for t in turns]))
        ).all()
        by_turn = {(a.turn_id, a.side): a for a in answers}
        views = [
            TurnView(
                t.index,
                t.prompt,
                t.status,
                *(
                    SideView(ans.content, ans.reasoning, ans.error, ans.status)
                    for ans in (by_turn[(t.id, s)] for s in SIDES)  # type: ignore[index]
                ),
            )
            for t in turns
        ]
        vote = session.exec(select(Vote).where(Vote.battle_id == battle_id)).first()
        names: tuple[str | None, str | None] = (None, None)
        if battle.status == "voted":
            names = _names(session, battle)
        return BattleView(
            battle.id,
            battle.status,
            views,
            *names,
            winner=vote.winner if vote else None,
            leaked=bool(vote and vote.leaked),
        )


def _names(session: Session, battle: Battle) -> tuple[str, str]:
    a = session.get(Endpoint, battle.model_a_id)
    b = session.get(Endpoint, battle.model_b_id)
    assert a is not None and b is not None
    return a.name, b.name


def claim_turn(engine: Engine, turn_id: int) -> bool:
    """Claim the right to generate a turn; exactly one caller across all workers gets True."""
    now = utcnow()
    with session_scope(engine) as session:
        claimed = session.execute(
            update(Turn)
            .where(col(Turn.id) == turn_id, col(Turn.status) == "pending")
            .values(status="streaming", claimed_at=now, heartbeat_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        turn = session.get(Turn, turn_id)
        assert turn is not None
        session.execute(
            update(Battle)
            .where(col(Battle.id) == turn.battle_id, col(Battle.status) == "pending")
            .values(status="streaming", updated_at=now)
        )
        return True


def expire_orphans(engine: Engine, *, turn_id: int, stale_after: timedelta) -> bool:
    """Fail a turn whose generating worker stopped beating; True if it was failed now."""
    cutoff = utcnow() - stale_after
    with session_scope(engine) as session:
        failed = session.execute(
            update(Turn)
            .where(
                col(Turn.id) == turn_id,
                col(Turn.status) == "streaming",
                col(Turn.heartbeat_at) < cutoff,
            )
            .values(status="failed")
        )
        if failed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        turn = session.get(Turn, turn_id)
        assert turn is not None
        for ans in session.exec(select(Answer).where(Answer.turn_id == turn_id)).all():
            if ans.status in ("pending", "streaming"):
                ans.status, ans.error = "failed", "Generation was interrupted."
                ans.error_detail = "the generating worker stopped (no heartbeat)"
                session.add(ans)
        session.execute(
            update(Battle).where(col(Battle.id) == turn.battle_id).values(status="failed")
        )
        return True
