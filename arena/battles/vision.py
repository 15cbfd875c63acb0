"""Which battles may carry images: the refusals when no vision models can answer them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from arena.core.errors import BattleError
from arena.images.clean import data_uri
from arena.store.images import image_data, turn_image_refs, with_images
from arena.store.tables import Endpoint, Turn
from arena.upstream.client import UserContent, user_content

NO_MODELS = (
    "The arena needs at least two enabled models to start a battle; "
    "an admin can add or enable them at /admin or with `arena models add`."
)
NO_VISION = (
    "Images need two enabled vision models, and this arena has fewer; send the prompt "
    "without images, or an admin can add vision models (`vision = true`)."
)


def require_vision(session: Session, models: Sequence[int]) -> None:
    """Refuse images in a battle whose models do not both take them (409)."""
    found = session.exec(select(Endpoint.vision).where(col(Endpoint.id).in_(models))).all()
    if len(found) < len(set(models)) or not all(found):
        raise BattleError(
            409,
            "This battle's models were drawn for text and cannot see images; "
            "start a new round with the images.",
        )


def turn_contents(session: Session, turns: Sequence[Turn]) -> dict[int, UserContent]:
    """Each turn's user message as sent upstream: its prompt, and its images as content parts."""
    refs = turn_image_refs(session, [t.id for t in turns if t.id is not None])
    stored = image_data(session, (sha for imgs in refs.values() for sha, _ in imgs))
    return {
        t.id or 0: user_content(
            t.prompt,
            [data_uri(*stored[sha]) for sha, _ in refs.get(t.id or 0, []) if sha in stored],
        )
        for t in turns
    }


def battle_modality(session: Session, battle_id: str) -> str:
    """ "vision" when a turn of the battle carried images, else "text" (its leaderboard)."""
    return "vision" if session.scalar(select(with_images(battle_id))) else "text"
