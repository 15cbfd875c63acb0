"""Vote review: recent voted battles with both conversations, filters, exclude and re-include.

An excluded vote stays in the database and in exports (marked); the leaderboard counts only votes
with `excluded == False`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from arena.admin import AdminError
from arena.admin.crud import find
from arena.store.images import turn_image_counts
from arena.store.tables import Answer, Battle, Endpoint, Turn, Vote
from arena.votes.version import bump_votes_version

MAX_REASON = 500


@dataclass(frozen=True)
class SideText:
    """One side's answer to one turn, with what the admin may want to see about it."""

    content: str
    reasoning: str | None = None
    status: str = "done"
    error: str | None = None
    error_detail: str | None = None
    ttft_ms: float | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class TurnText:
    """A prompt and both answers."""

    index: int
    prompt: str
    a: SideText
    b: SideText
    images: int = 0  # how many images the prompt carried


@dataclass(frozen=True)
class VoteFilter:
    """Which votes to show; None means either."""

    model: str | None = None
    since: date | None = None
    until: date | None = None
    leaked: bool | None = None
    excluded: bool | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class VoteRecord:
    """A voted battle as the reviewer sees it."""

    battle_id: str
    voted_at: datetime
    model_a: str
    model_b: str
    winner: str
    anony: bool
    leaked: bool
    excluded: bool
    exclude_reason: str | None
    voter_id: str
    turns: list[TurnText] = field(default_factory=list)

    def public(self, hash_id: Callable[[str], str], scrub: Callable[[str], str]) -> dict[str, Any]:
        """JSON for `GET /api/admin/votes`: the voter only as a pseudonym (`judge`)."""
        return {
            "battle_id": self.battle_id,
            "tstamp": self.voted_at.isoformat(),
            "model_a": self.model_a,
            "model_b": self.model_b,
            "winner": self.winner,
            "anony": self.anony,
            "leaked": self.leaked,
            "excluded": self.excluded,
            "exclude_reason": self.exclude_reason,
            "judge": hash_id(self.voter_id),
            "turns": [
                {
                    "prompt": t.prompt,
                    **{
                        side: {
                            "content": s.content,
                            "reasoning": s.reasoning,
                            "status": s.status,
                            "error": s.error,
                            "error_detail": scrub(s.error_detail) if s.error_detail else None,
                        }
                        for side, s in (("a", t.a), ("b", t.b))
                    },
                }
                for t in self.turns
            ],
        }


def endpoint_names(session: Session) -> dict[int, str]:
    """Endpoint id → name, for every endpoint (the table is small)."""
    return {e.id: e.name for e in session.exec(select(Endpoint)) if e.id is not None}


def load_turns(session: Session, battle_ids: Iterable[str]) -> dict[str, list[TurnText]]:
    """The turns of many battles in two queries, in order."""
    ids = list(battle_ids)
    if not ids:
        return {}
    turns = session.exec(
        select(Turn)
        .where(col(Turn.battle_id).in_(ids))
        .order_by(col(Turn.battle_id), col(Turn.index))
    ).all()
    answers = session.exec(
        select(Answer).where(col(Answer.turn_id).in_([t.id for t in turns]))
    ).all()
    by_key = {(a.turn_id, a.side): a for a in answers}
    images = turn_image_counts(session, (t.id for t in turns if t.id is not None))
    out: dict[str, list[TurnText]] = defaultdict(list)
    for t in turns:
        sides = []
        for side in ("a", "b"):
            a = by_key.get((t.id or 0, side))
            sides.append(
                SideText("", status="missing")
                if a is None
                else SideText(
                    a.content,
                    a.reasoning,
                    a.status,
                    a.error,
                    a.error_detail,
                    a.ttft_ms,
                    a.completion_tokens,
                )
            )
        out[t.battle_id].append(
            TurnText(t.index, t.prompt, sides[0], sides[1], images.get(t.id or 0, 0))
        )
    return out


def list_votes(session: Session, filters: VoteFilter) -> list[VoteRecord]:
    """Voted battles, newest vote first, with both conversations."""
    stmt = select(Vote)
    if filters.model:
        endpoint = find(session, name=filters.model)
        stmt = stmt.where(
            or_(col(Vote.model_a_id) == endpoint.id, col(Vote.model_b_id) == endpoint.id)
        )
    if filters.since:
        stmt = stmt.where(col(Vote.created_at) >= datetime.combine(filters.since, time()))
    if filters.until:
        day_after = datetime.combine(filters.until + timedelta(days=1), time())
        stmt = stmt.where(col(Vote.created_at) < day_after)
    if filters.leaked is not None:
        stmt = stmt.where(col(Vote.leaked) == filters.leaked)
    if filters.excluded is not None:
        stmt = stmt.where(col(Vote.excluded) == filters.excluded)
    stmt = stmt.order_by(col(Vote.created_at).desc(), col(Vote.id).desc())
    votes = session.exec(stmt.offset(max(filters.offset, 0)).limit(max(filters.limit, 1))).all()
    names = endpoint_names(session)
    turns = load_turns(session, (v.battle_id for v in votes))
    return [_record(v, names, turns.get(v.battle_id, [])) for v in votes]


def _record(vote: Vote, names: dict[int, str], turns: list[TurnText]) -> VoteRecord:
    return VoteRecord(
        vote.battle_id,
        vote.created_at,
        names.get(vote.model_a_id, "?"),
        names.get(vote.model_b_id, "?"),
        vote.winner,
        vote.anony,
        vote.leaked,
        vote.excluded,
        vote.exclude_reason,
        vote.voter_id,
        turns,
    )


def get_vote(session: Session, *, battle_id: str) -> VoteRecord:
    """One voted battle; 404 for an unknown battle, 409 for one without a vote."""
    if session.get(Battle, battle_id) is None:
        raise AdminError(404, f"no battle {battle_id!r}")
    vote = session.exec(select(Vote).where(Vote.battle_id == battle_id)).first()
    if vote is None:
        raise AdminError(409, f"battle {battle_id!r} has no vote")
    turns = load_turns(session, [battle_id]).get(battle_id, [])
    return _record(vote, endpoint_names(session), turns)


def set_excluded(
    session: Session,
    *,
    battle_id: str,
    excluded: bool,
    reason: str | None = None,
    count_leaked: bool = False,
) -> Vote:
    """Exclude a vote from the leaderboard (a reason is required) or include it again.

    An included vote counts again unless it leaked a model's name (and leaked votes do not count,
    `count_leaked_votes`), the rule it was cast under.
    """
    text = (reason or "").strip()
    if excluded and not text:
        raise AdminError(422, "reason: say why the vote is excluded (e.g. spam)")
    if len(text) > MAX_REASON:
        raise AdminError(422, f"reason: at most {MAX_REASON} characters")
    get_vote(session, battle_id=battle_id)  # 404 / 409
    vote = session.exec(select(Vote).where(Vote.battle_id == battle_id)).one()
    vote.excluded = excluded
    vote.exclude_reason = text if excluded else None
    vote.counted = not excluded and (count_leaked or not vote.leaked)
    session.add(vote)
    bump_votes_version(session)  # the leaderboard recomputes from the counted votes
    return vote


def vote_counts(session: Session) -> dict[str, dict[str, int]]:
    """Per model name: all votes, those that count, and those an admin excluded."""
    names = endpoint_names(session)
    counts = {n: {"votes": 0, "counted": 0, "excluded": 0} for n in names.values()}
    for column in (col(Vote.model_a_id), col(Vote.model_b_id)):
        rows = session.exec(
            select(column, col(Vote.counted), col(Vote.excluded), func.count()).group_by(
                column, col(Vote.counted), col(Vote.excluded)
            )
        ).all()
        for endpoint_id, counted, excluded, n in rows:
            if (name := names.get(endpoint_id)) is None:
                continue
            counts[name]["votes"] += int(n)
            counts[name]["counted"] += int(n) if counted else 0
            counts[name]["excluded"] += int(n) if excluded else 0
    return counts
