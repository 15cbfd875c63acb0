"""What a voter can do — start a battle, ask a follow-up, vote — for the JSON API and the pages.

Each action checks the input, applies the limits and the moderation hook, does the database work
in a thread and starts generation; the routes only parse and render.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from arena.battles import store as battles
from arena.battles import vote as voting
from arena.battles.runner import TurnRunner
from arena.battles.starter import BattleStarter
from arena.battles.uploads import check_upload_budget, checked_images
from arena.core import metrics
from arena.core.errors import BattleError
from arena.core.rules import BattleRules
from arena.images.clean import CleanImage
from arena.upstream.moderation import Moderator


@dataclass(frozen=True)
class BattleService:
    """The worker's parts a voter's action needs, built once when the app starts."""

    rules: BattleRules
    engine: Engine
    runner: TurnRunner
    starter: BattleStarter
    moderator: Moderator | None = None


@dataclass(frozen=True)
class Voter:
    """Who is asking."""

    id: str
    ip: str | None


# Characters that draw nothing: the format controls (zero-width space and joiners, BOM, soft
# hyphen, bidi marks) are Unicode category Cf; these few are letters or marks that render blank.
_BLANK_GLYPHS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
_UNSTORABLE = re.compile("[\ud800-\udfff]")


def _visible(ch: str) -> bool:
    """Whether a character shows anything (not a space, a control or a blank glyph)."""
    return (
        not ch.isspace()
        and unicodedata.category(ch) not in ("Cc", "Cf", "Zs", "Zl", "Zp")
        and ch not in _BLANK_GLYPHS
    )


def clean_prompt(prompt: str, max_chars: int) -> str:
    """The prompt, checked: valid text, something visible, not over the limit, no NUL bytes.

    A lone surrogate cannot be encoded, so neither database can store it; it is refused here,
    before any model is asked, rather than failing the insert after both were.
    """
    if _UNSTORABLE.search(prompt):
        raise BattleError(
            422, "The prompt contains invalid characters (unpaired UTF-16 surrogates)."
        )
    text = prompt.replace("\x00", "")
    if not any(_visible(ch) for ch in text):
        raise BattleError(422, "The prompt is empty.")
    if len(text) > max_chars:
        raise BattleError(
            422, f"The prompt is {len(text):,} characters; the limit is {max_chars:,}."
        )
    return text


async def _moderate_prompt(
    arena: BattleService, prompt: str, images: Sequence[CleanImage] = ()
) -> None:
    if arena.moderator is None:
        return
    verdict = await arena.moderator.verdict([prompt], [img.data_uri() for img in images])
    if verdict == "flagged":
        raise BattleError(422, "This prompt was refused by the moderation filter.")
    if not arena.moderator.allows(verdict):
        raise BattleError(424, "The moderation service is unavailable; please try again later.")


async def _images(
    arena: BattleService, voter: Voter, uris: Sequence[str]
) -> tuple[CleanImage, ...]:
    images = await checked_images(uris, arena.rules.images)
    if images:
        await asyncio.to_thread(
            check_upload_budget,
            arena.engine,
            voter_id=voter.id,
            client_ip=voter.ip,
            images=images,
            rules=arena.rules.images,
        )
    return images


async def start_battle(
    arena: BattleService, voter: Voter, prompt: str, images: Sequence[str] = ()
) -> str:
    """Draw two models for a new battle and start both answers; returns the battle id.

    Both models are asked as soon as they are drawn, and the battle is stored while they think:
    the insert is not on the way to the first token (`BattleStarter`, which batches the starts
    that arrive together). A prompt with images (data: URIs) draws two vision models.
    """
    text = clean_prompt(prompt, arena.rules.max_prompt_chars)
    clean = await _images(arena, voter, images)
    await _moderate_prompt(arena, text, clean)
    return await arena.starter.start(battles.StartRequest(voter.id, voter.ip, text, clean))


async def follow_up(
    arena: BattleService,
    voter: Voter,
    battle_id: str,
    prompt: str,
    images: Sequence[str] = (),
) -> int:
    """Ask both models a follow-up question; returns the new turn's index."""
    text = clean_prompt(prompt, arena.rules.max_prompt_chars)
    clean = await _images(arena, voter, images)
    await _moderate_prompt(arena, text, clean)
    index = await asyncio.to_thread(
        battles.add_turn,
        arena.engine,
        battle_id=battle_id,
        voter_id=voter.id,
        prompt=text,
        max_turns=arena.rules.max_turns,
        claim=True,
        images=clean,
    )
    await arena.runner.start_stored(battle_id)
    return index


async def vote(
    arena: BattleService, voter: Voter, battle_id: str, winner: str
) -> voting.VoteResult:
    """Record the voter's verdict and reveal the names."""
    result = await asyncio.to_thread(
        voting.cast_vote,
        arena.engine,
        battle_id=battle_id,
        voter_id=voter.id,
        winner=winner,
        client_ip=voter.ip,
        count_leaked=arena.rules.count_leaked_votes,
        limits=arena.rules.limits,
        hard_threshold=arena.rules.hard_prompt_rules_threshold,
        llm_tagger=arena.rules.category_tagger,
    )
    metrics.VOTES.labels("true" if result.counted else "false").inc()
    if result.leaked:
        metrics.LEAKS.inc()
    return result
