"""Battle bookkeeping in the database: draw and store new battles, follow-up turns, claims.

Plain synchronous functions over an engine, each one short transaction; the routes call them in a
thread. Every state change that two workers could race on is a conditional UPDATE whose row count
decides who won, so the database, not process memory, is the single source of truth.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select

from arena.battles.vision import NO_MODELS, NO_VISION, require_vision
from arena.core.errors import BattleError as BattleError
from arena.core.rules import Limits, SamplingRules
from arena.images.clean import CleanImage
from arena.matchmaking.pairing import PairingCache, matchmaking_inputs
from arena.matchmaking.policy import NotEnoughModels, draw_battle_pair
from arena.store.endpoints import drawable_endpoints
from arena.store.engine import session_scope
from arena.store.images import save_images
from arena.store.tables import Answer, Battle, Endpoint, Turn, utcnow
from arena.votes.limits import Usage

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
Winner = Literal["model_a", "model_b", "tie", "tie (bothbad)"]
SIDES = ("a", "b")


def new_battle_id() -> str:
    """An unguessable battle id."""
    return secrets.token_hex(12)


@dataclass(frozen=True)
class Draw:
    """A new battle's id and its two models, drawn but not yet stored."""

    battle_id: str
    endpoints: dict[str, Endpoint]  # side -> its model (detached)


@dataclass(frozen=True)
class StartRequest:
    """A voter's request for a new battle, its prompt already checked."""

    voter_id: str
    client_ip: str | None
    prompt: str
    images: tuple[CleanImage, ...] = ()  # checked and normalised: a vision battle


# Sides and pairs decide what voters see: drawn from the OS, not from a guessable generator.
_RNG = random.SystemRandom()


def draw_battles(
    engine: Engine,
    requests: Sequence[StartRequest],
    *,
    rng: random.Random | None = None,
    limits: Limits | None = None,
    sampling: SamplingRules | None = None,
    pairing: PairingCache | None = None,
    pending: Mapping[tuple[str, str], int] | None = None,
) -> list[Draw | BattleError]:
    """Check each request's limits and draw its two models, in one read-only transaction.

    The caller starts both models of each draw and then stores the draws with `store_battles`,
    so the insert overlaps the models' time to first token. The limits are checked before any
    model is asked: a refused request must not cost an upstream call. A request that is refused
    gets its BattleError in its place; `pending` counts battles let through but not yet stored.
    """
    rng = rng or _RNG
    with session_scope(engine) as session:
        usage = None
        if limits is not None:
            usage = Usage(
                session,
                what="battles",
                limits=limits,
                voter_ids=[r.voter_id for r in requests],
                client_ips=[r.client_ip for r in requests],
                pending=pending,
            )
        endpoints = [e for e in drawable_endpoints(session) if e.id is not None]
        candidates, policy, stats = matchmaking_inputs(session, sampling, endpoints, pairing)
    by_id = {e.id: e for e in endpoints}
    # A prompt with images is answered by vision models only, never silently by text models.
    vision = [c for c in candidates if by_id[c.id].vision]
    draws: list[Draw | BattleError] = []
    for request in requests:
        try:
            if usage is not None:
                usage.check(request.voter_id, request.client_ip)
            a, b = draw_battle_pair(vision if request.images else candidates, policy, rng, stats)
        except BattleError as refused:
            draws.append(refused)
            continue
        except NotEnoughModels:
            draws.append(BattleError(409, NO_VISION if request.images else NO_MODELS))
            continue
        if usage is not None:
            usage.count(request.voter_id, request.client_ip)
        draws.append(Draw(new_battle_id(), {"a": by_id[a], "b": by_id[b]}))
    return draws


# Built once: they run for every battle start. RETURNING in the order of the rows inserted.
_INSERT_BATTLE = insert(Battle)
_INSERT_TURN = insert(Turn).returning(col(Turn.id), sort_by_parameter_order=True)
_INSERT_ANSWERS = insert(Answer).returning(
    col(Answer.turn_id), col(Answer.side), col(Answer.id), sort_by_parameter_order=True
)

Stored = tuple[int, dict[str, int]]  # a turn's id and its answers' ids by side


def store_battles(engine: Engine, started: Sequence[tuple[Draw, StartRequest]]) -> list[Stored]:
    """Store drawn battles, each with its first turn claimed by the caller, who generates it (no
    separate claiming transaction), in one transaction; returns each one's turn and answer ids."""
    with session_scope(engine) as session:
        session.connection().execute(
            _INSERT_BATTLE,
            [
                {
                    "id": draw.battle_id,
                    "voter_id": request.voter_id,
                    "client_ip": request.client_ip,
                    "model_a_id": draw.endpoints["a"].id,
                    "model_b_id": draw.endpoints["b"].id,
                    "status": "streaming",
                }
                for draw, request in started
            ],
        )
        stored = _add_turns(
            session,
            [
                NewTurn(draw.battle_id, _models(draw), 0, request.prompt)
                for draw, request in started
            ],
            claim=True,
        )
        save_images(
            session,
            [(turn_id, r.images) for (turn_id, _), (_, r) in zip(stored, started, strict=True)],
        )
        return stored


def _models(draw: Draw) -> tuple[int, int]:
    return (draw.endpoints["a"].id or 0, draw.endpoints["b"].id or 0)


@dataclass(frozen=True)
class NewTurn:
    """A turn to store: its battle, the battle's models (a, b), its index and prompt."""

    battle_id: str
    models: tuple[int, int]
    index: int
    prompt: str


def _add_turns(session: Session, turns: Sequence[NewTurn], *, claim: bool) -> list[Stored]:
    """Store turns and their two empty answers each; returns their turn and answer ids.

    Core inserts with RETURNING on the session's connection (the columns' defaults fill the
    rest), one statement per table however many turns: this runs for every battle start, and
    building and flushing ORM objects cost more than the rest of the start together.
    """
    now = utcnow()
    rows: list[dict[str, object]] = [
        {"battle_id": t.battle_id, "index": t.index, "prompt": t.prompt} for t in turns
    ]
    if claim:
        for row in rows:
            row |= {"status": "streaming", "claimed_at": now, "heartbeat_at": now}
    conn = session.connection()
    turn_ids = [turn_id or 0 for turn_id in conn.execute(_INSERT_TURN, rows).scalars()]
    answers = conn.execute(
        _INSERT_ANSWERS,
        [
            {"turn_id": turn_id, "side": side, "endpoint_id": endpoint, "content": ""}
            for turn_id, t in zip(turn_ids, turns, strict=True)
            for side, endpoint in zip(SIDES, t.models, strict=True)
        ],
    ).all()
    ids: dict[int, dict[str, int]] = {turn_id: {} for turn_id in turn_ids}
    for turn_id, side, answer_id in answers:
        ids[turn_id][side] = answer_id or 0
    return [(turn_id, ids[turn_id]) for turn_id in turn_ids]


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
    images: Sequence[CleanImage] = (),
) -> int:
    """Store a follow-up prompt (and its images) for both sides; returns the new turn's index."""
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
        models = (battle.model_a_id, battle.model_b_id)
        if images:
            require_vision(session, models)
        [(turn_id, _)] = _add_turns(
            session, [NewTurn(battle_id, models, count, prompt)], claim=claim
        )
        save_images(session, [(turn_id, images)])
        return count


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
