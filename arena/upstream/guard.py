"""What a model's text passes before anyone sees or stores it, at the one place it enters.

`stream_answer` hands every piece of an answer through here, so the voter's stream, the saved
answer, the page and every export hold the same text: characters neither database can store
(lone surrogates; NUL, which PostgreSQL refuses) become U+FFFD.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

from arena.upstream.client import Delta, Finish

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class TextGuard:
    """One kind of text (content or reasoning) of one answer, piece by piece."""

    def __init__(self) -> None:
        self.replaced = 0  # characters that could not be stored

    def feed(self, text: str) -> str:
        """The storable form of the next piece."""
        text, n = _UNSTORABLE.subn(REPLACEMENT, text)
        self.replaced += n
        return text


def _notes(guards: dict[str, TextGuard]) -> tuple[str, ...]:
    """What the guards changed, for the answer's record (admins only)."""
    notes = []
    for kind, guard in guards.items():
        if guard.replaced:
            notes.append(
                f"{kind}: {guard.replaced} character(s) that cannot be stored "
                "(lone surrogate or NUL) replaced with U+FFFD"
            )
    return tuple(notes)


async def guarded(pieces: AsyncIterator[Delta | Finish]) -> AsyncIterator[Delta | Finish]:
    """The pieces of one answer made storable; the Finish carries notes of what changed."""
    guards = {"content": TextGuard(), "reasoning": TextGuard()}
    async for item in pieces:
        if isinstance(item, Finish):
            yield dataclasses.replace(item, notes=_notes(guards))
            return
        text = guards[item.kind].feed(item.text)
        if text:
            yield Delta(item.kind, text)
