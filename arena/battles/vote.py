"""The vote: one per battle, tagged as it is cast, then the reveal.

Tagging happens here, once (categories, style features, prompt hash, identity leaks, the daily
cap), so that ranking never has to read the conversations again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from arena.battles.costs import SideFigures, side_figures
from arena.battles.store import SIDES, WINNERS, owned_battle
from arena.battles.vision import battle_modality
from arena.core.errors import BattleError
from arena.core.rules import Limits
from arena.store.engine import session_scope
from arena.store.style_columns import with_style
from arena.store.tables import Answer, Battle, Endpoint, Turn, Vote, utcnow
from arena.votes.leaks import find_leak, identity_terms
from arena.votes.limits import check, over_daily_cap
from arena.votes.tag_jobs import vote_tags
from arena.votes.tags import DEFAULT_HARD_THRESHOLD, prompt_hash, style_vector
from arena.votes.version import bump_votes_version


@dataclass(frozen=True)
class VoteResult:
    """What the voter learns after voting."""

    model_a: str
    model_b: str
    winner: str
    leaked: bool
    counted: bool
    notice: str | None
    # Time, tokens and cost of each side: revealed with the names, never before.
    figures: dict[str, SideFigures] = field(default_factory=dict)


def cast_vote(
    engine: Engine,
    *,
    battle_id: str,
    voter_id: str,
    winner: str,
    client_ip: str | None = None,
    count_leaked: bool = False,
    limits: Limits | None = None,
    hard_threshold: int = DEFAULT_HARD_THRESHOLD,
    llm_tagger: str | None = None,
) -> VoteResult:
    """Record the one vote of a battle and reveal the names (404/403/409 as the contract says).

    A battle whose latest turn has a side with no answer (stopped before its first token, or
    an empty reply) takes no vote (409): a side with no answer is not a finished answer, and a
    vote on it would reveal the names for nothing. A follow-up both sides answer makes the
    battle votable again.

    The vote is tagged on the way in (categories, style features, prompt hash, identity leaks),
    so ranking never has to read the conversations again.
    """
    if winner not in WINNERS:
        raise BattleError(422, f"winner must be one of {', '.join(WINNERS)}")
    with session_scope(engine) as session:
        battle = owned_battle(session, battle_id, voter_id)
        if battle.status == "voted":
            raise BattleError(409, "This battle has already been voted on.")
        if battle.status == "failed":
            raise BattleError(409, "This battle failed, so it takes no vote; start a new round.")
        if battle.status == "ready" and _unanswered(session, battle_id):
            raise BattleError(
                409,
                "A model gave no answer in the last turn, so this battle takes no vote yet; "
                "ask a follow-up or start a new round.",
            )
        if limits is not None:
            check(session, what="votes", voter_id=voter_id, client_ip=client_ip, limits=limits)
        # Exactly one of two concurrent votes moves the battle from ready to voted.
        moved = session.execute(
            update(Battle)
            .where(col(Battle.id) == battle_id, col(Battle.status) == "ready")
            .values(status="voted", updated_at=utcnow())
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise BattleError(409, "Both answers must finish before you vote.")
        prompts, sides = conversation(session, battle_id)
        endpoint_a = session.get(Endpoint, battle.model_a_id)
        endpoint_b = session.get(Endpoint, battle.model_b_id)
        assert endpoint_a is not None and endpoint_b is not None
        leak_a = find_leak(sides["a"], identity_terms(endpoint_a))
        leak_b = find_leak(sides["b"], identity_terms(endpoint_b))
        leaked = bool(leak_a or leak_b)
        notice = None
        if leaked:
            which = "Model A" if leak_a else "Model B"
            notice = (
                f"{which} revealed its identity in its answer, so this vote is recorded but "
                + ("still counts." if count_leaked else "does not count on the leaderboard.")
            )
        counted = count_leaked or not leaked
        if counted and limits is not None and over_daily_cap(session, voter_id, limits):
            counted = False
            notice = (
                "Thank you! You have reached today's limit of counted votes, so this one is "
                "recorded but does not count on the leaderboard."
            )
        first_hash = prompt_hash(prompts[0]) if prompts else None
        names, bits = vote_tags(
            session,
            prompts,
            sides,
            first_hash,
            hard_threshold=hard_threshold,
            queue_for_llm=llm_tagger is not None,
        )
        vote = Vote(
            battle_id=battle_id,
            winner=winner,
            voter_id=voter_id,
            client_ip=client_ip,
            model_a_id=battle.model_a_id,
            model_b_id=battle.model_b_id,
            anony=battle.anony,
            leaked=leaked,
            counted=counted,
            categories=names,
            category_bits=bits,
            prompt_hash=first_hash,
            modality=battle_modality(session, battle_id),
        )
        session.add(with_style(vote, style_vector(sides["a"], sides["b"])))
        bump_votes_version(session)
        figures = side_figures(session, battle_id)
    return VoteResult(endpoint_a.name, endpoint_b.name, winner, leaked, counted, notice, figures)


def _unanswered(session: Session, battle_id: str) -> bool:
    """Whether a side of the battle's latest turn has no answer (nothing but whitespace)."""
    turn = session.exec(
        select(Turn).where(Turn.battle_id == battle_id).order_by(col(Turn.index).desc())
    ).first()
    if turn is None:
        return True
    contents = session.exec(select(Answer.content).where(Answer.turn_id == turn.id)).all()
    return len(contents) < len(SIDES) or any(not c.strip() for c in contents)


def conversation(session: Session, battle_id: str) -> tuple[list[str], dict[str, list[str]]]:
    """The prompts of a battle and each side's answers, turn by turn."""
    turns = session.exec(
        select(Turn).where(Turn.battle_id == battle_id).order_by(col(Turn.index))
    ).all()
    answers = session.exec(
        select(Answer).where(col(Answer.turn_id).in_([t.id for t in turns]))
    ).all()
    by_key = {(a.turn_id, a.side): a.content for a in answers}
    sides = {s: [by_key.get((t.id or 0, s), "") for t in turns] for s in SIDES}
    return [t.prompt for t in turns], sides
