"""The vote-review service: list, show, exclude and include votes over the engine, with every
endpoint's keys scrubbed from the upstream text that is shown (a provider may quote any key)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from arena.admin import crud, review
from arena.admin.describe import all_keys
from arena.store.engine import session_scope
from arena.store.keys import KeyCipher, redact

Scrub = Callable[[str], str]


def _scrub(secrets: list[str]) -> Scrub:
    return lambda text: redact(text, secrets)


def scrubber(engine: Engine, cipher: KeyCipher | None) -> Scrub:
    """A function that removes every endpoint's keys from a text."""
    with session_scope(engine) as session:
        return _scrub(all_keys(session, cipher))


@dataclass(frozen=True)
class VotePage:
    """Votes to review, the model names to filter by, and the scrubber for their errors."""

    votes: list[review.VoteRecord]
    names: list[str]
    scrub: Scrub


def list_votes(engine: Engine, filters: review.VoteFilter) -> list[review.VoteRecord]:
    """Voted battles, newest first, with both conversations."""
    with session_scope(engine) as session:
        return review.list_votes(session, filters)


def vote_page(engine: Engine, filters: review.VoteFilter, cipher: KeyCipher | None) -> VotePage:
    """What the vote review page shows, read in one transaction."""
    with session_scope(engine) as session:
        names = [e.name for e in crud.list_endpoints(session)]
        secrets = all_keys(session, cipher)
        return VotePage(review.list_votes(session, filters), names, _scrub(secrets))


def get_vote(engine: Engine, battle_id: str) -> review.VoteRecord:
    """One voted battle; 404 for an unknown battle, 409 for one without a vote."""
    with session_scope(engine) as session:
        return review.get_vote(session, battle_id=battle_id)


def set_excluded(
    engine: Engine,
    battle_id: str,
    *,
    excluded: bool,
    reason: str | None = None,
    count_leaked: bool = False,
) -> None:
    """Exclude a vote from the leaderboard (a reason is required) or count it again."""
    with session_scope(engine) as session:
        review.set_excluded(
            session,
            battle_id=battle_id,
            excluded=excluded,
            reason=reason,
            count_leaked=count_leaked,
        )


def review_vote(
    engine: Engine,
    battle_id: str,
    cipher: KeyCipher | None,
    *,
    excluded: bool,
    reason: str | None,
    count_leaked: bool,
) -> tuple[review.VoteRecord, Scrub]:
    """Exclude or include a vote and read it back in the same transaction (the pages' button)."""
    with session_scope(engine) as session:
        review.set_excluded(
            session,
            battle_id=battle_id,
            excluded=excluded,
            reason=reason,
            count_leaked=count_leaked,
        )
        secrets = all_keys(session, cipher)
        return review.get_vote(session, battle_id=battle_id), _scrub(secrets)
