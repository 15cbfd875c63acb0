"""What a voter may see of a battle: its turns and answers, and the names only once voted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from arena.battles.costs import SideFigures, side_figures
from arena.battles.store import SIDES, owned_battle
from arena.core.errors import BattleError
from arena.store.engine import session_scope
from arena.store.images import battle_image, turn_image_counts
from arena.store.tables import Answer, Battle, Endpoint, Turn, Vote


@dataclass(frozen=True)
class SideView:
    """What the voter may see of one side of one turn."""

    content: str
    reasoning: str | None
    error: str | None
    status: str
    stopped: bool = False  # the voter stopped it before the model finished


@dataclass(frozen=True)
class TurnView:
    """One turn as the voter sees it."""

    index: int
    prompt: str
    status: str
    a: SideView
    b: SideView
    images: int = 0  # how many images the prompt carried (served at /battles/{id}/images/…)


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
    # Only once voted: time, tokens and cost would give the models away.
    figures: dict[str, SideFigures] | None = None
    accepts_images: bool = False  # both models see images, so a follow-up may carry some

    def public(self) -> dict[str, Any]:
        """The contract's JSON shape of `GET /api/battles/{id}`."""
        status = "streaming" if self.status == "pending" else self.status
        return {
            "battle_id": self.battle_id,
            "status": status,
            "turns": [
                {
                    "prompt": t.prompt,
                    "images": t.images,
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
            **(
                {"figures": {s: f.public() for s, f in self.figures.items()}}
                if self.figures is not None
                else {}
            ),
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
        images = turn_image_counts(session, (t.id for t in turns if t.id is not None))
        views = [
            TurnView(
                t.index,
                t.prompt,
                t.status,
                *_sides(by_turn, t.id or 0),
                images=images.get(t.id or 0, 0),
            )
            for t in turns
        ]
        vote = session.exec(select(Vote).where(Vote.battle_id == battle_id)).first()
        names: tuple[str | None, str | None] = (None, None)
        figures = None
        if battle.status == "voted":
            names = _names(session, battle)
            figures = side_figures(session, battle_id)
        return BattleView(
            battle.id,
            _agreed_status(battle.status, views[-1].status if views else None),
            views,
            *names,
            winner=vote.winner if vote else None,
            leaked=bool(vote and vote.leaked),
            figures=figures,
            accepts_images=_both_vision(session, battle),
        )


def _sides(by_turn: dict[tuple[int, str], Answer], turn_id: int) -> tuple[SideView, SideView]:
    a, b = (
        SideView(ans.content, ans.reasoning, ans.error, ans.status, ans.finish_reason == "stopped")
        for ans in (by_turn[(turn_id, s)] for s in SIDES)
    )
    return a, b


def _agreed_status(battle: str, last_turn: str | None) -> str:
    """The battle's status as its last turn has it.

    The battle row is read before its turns, statement by statement (PostgreSQL's READ COMMITTED,
    SQLite's reads outside a write), so a turn's end or a follow-up's start can be committed in
    between. A page rendered from the older battle row would show finished answers with the vote
    closed and no stream to open it: the turn is the newer word.
    """
    if battle in ("pending", "streaming") and last_turn in ("done", "failed"):
        return "ready" if last_turn == "done" else "failed"
    if battle == "ready" and last_turn in ("pending", "streaming"):
        return last_turn
    return battle


def _both_vision(session: Session, battle: Battle) -> bool:
    ids = {battle.model_a_id, battle.model_b_id}
    found = session.exec(select(Endpoint.vision).where(col(Endpoint.id).in_(ids))).all()
    return len(found) == len(ids) and all(found)


def accepts_images(engine: Engine, battle_id: str) -> bool:
    """Whether both models of a battle see images (a follow-up may then carry some)."""
    with session_scope(engine) as session:
        battle = session.get(Battle, battle_id)
        return battle is not None and _both_vision(session, battle)


def _names(session: Session, battle: Battle) -> tuple[str, str]:
    a = session.get(Endpoint, battle.model_a_id)
    b = session.get(Endpoint, battle.model_b_id)
    assert a is not None and b is not None
    return a.name, b.name


def voter_image(
    engine: Engine, *, battle_id: str, voter_id: str | None, turn: int, position: int
) -> tuple[str, bytes]:
    """One image of a battle as (mime, bytes): for its voter, or for an admin (`voter_id` None).
    404 when there is no such image (or retention deleted it), 403 for anybody else's battle."""
    with session_scope(engine) as session:
        if voter_id is not None:
            owned_battle(session, battle_id, voter_id)
        found = battle_image(session, battle_id, turn, position)
    if found is None:
        raise BattleError(404, "No such image (it may have been deleted after its retention).")
    return found


def battle_image_urls(engine: Engine, battle_id: str, *, prefix: str = "") -> list[list[str]]:
    """The URLs of each turn's images, turn by turn (no ownership check: the caller's job)."""
    with session_scope(engine) as session:
        turns = session.exec(
            select(Turn.id, Turn.index).where(Turn.battle_id == battle_id).order_by(col(Turn.index))
        ).all()
        counts = turn_image_counts(session, (t for t, _ in turns if t is not None))
    return [
        [f"{prefix}/battles/{battle_id}/images/{index}/{p}" for p in range(counts.get(t or 0, 0))]
        for t, index in turns
    ]
