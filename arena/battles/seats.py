"""Seating another model on a side whose model failed before showing anything."""

from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import Session, col

from arena.battles.context import RunContext
from arena.battles.saves import SideState
from arena.matchmaking.policy import draw_replacement
from arena.store.endpoints import drawable_endpoints
from arena.store.engine import session_scope
from arena.store.tables import Answer, Battle, Endpoint
from arena.upstream.client import has_images


def replace_seat(ctx: RunContext, battle_id: str, side: str, st: SideState) -> bool:
    """Seat another drawable model on this side (first turn, before any token)."""
    with session_scope(ctx.engine) as session:
        battle = session.get(Battle, battle_id)
        assert battle is not None
        st.tried.add(st.endpoint_id)
        exclude = st.tried | {battle.model_a_id, battle.model_b_id}
        # A conversation with images goes only to another vision model.
        vision_only = has_images(st.messages)
        candidates = [
            (e.id, e.weight)
            for e in drawable_endpoints(session)
            if e.id and (e.vision or not vision_only)
        ]
        new_id = seat_replacement(session, battle_id, side, candidates, exclude, ctx.rng)
        if new_id is None:
            return False
        endpoint = session.get(Endpoint, new_id)
        assert endpoint is not None
        st.endpoint_id = new_id
        st.params = ctx.upstreams.params_for(endpoint)
        # The newcomer gets its own system prompt in front of the same conversation.
        turns = [m for m in st.messages if m["role"] != "system"]
        prompt = endpoint.system_prompt
        st.messages = ([{"role": "system", "content": prompt}] if prompt else []) + turns
        st.attempts += 1
        session.execute(
            update(Answer).where(col(Answer.id) == st.answer_id).values(endpoint_id=new_id)
        )
    return True


def seat_replacement(
    session: Session,
    battle_id: str,
    side: str,
    candidates: Sequence[tuple[int, float]],
    exclude: set[int],
    rng: random.Random,
) -> int | None:
    """Seat another model on one side of a battle; returns its id, or None when none can sit.

    Both sides of a battle can fail at once and look for a replacement at the same moment, each
    from its own read of the battle row. The seat is taken by a conditional UPDATE that requires
    the other seat to hold a different model, so the two can never end up with the same one.
    """
    own, other = (Battle.model_a_id, Battle.model_b_id)[:: 1 if side == "a" else -1]
    exclude = set(exclude)
    while (new_id := draw_replacement(candidates, exclude, rng)) is not None:
        seated = session.execute(
            update(Battle)
            .where(col(Battle.id) == battle_id, col(other) != new_id)
            .values({own: new_id})
        )
        if seated.rowcount:  # type: ignore[attr-defined]
            return new_id
        exclude.add(new_id)  # the other side took it meanwhile
    return None
