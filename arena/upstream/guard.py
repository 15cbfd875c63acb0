"""What a model's text passes before anyone sees or stores it, at the one place it enters.

`stream_answer` hands every piece of an answer through here, so the voter's stream, the saved
answer, the page and every export hold the same text: characters neither database can store
(lone surrogates; NUL, which PostgreSQL refuses) become U+FFFD, and the endpoint's own API key,
should the server echo it, becomes "[redacted]".
"""

from __future__ import annotations

import base64
import dataclasses
import re
import urllib.parse
from collections.abc import AsyncIterator, Sequence

from arena.upstream.client import Delta, Finish

REPLACEMENT = "\ufffd"
REDACTED = "[redacted]"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MIN_SECRET = 8  # shorter keys are placeholders of local servers, and would match real text
NOT_SECRETS = frozenset({"sk-no-key"})  # the arena's own placeholder when no key is set
_MIN_FORM = 12  # a shorter encoded fragment of a key would match ordinary text


def secret_forms(key: str) -> list[str]:
    """The ways a key shows up in text: as is, `Bearer <key>`, base64 and URL-encoded."""
    if len(key) < MIN_SECRET or key in NOT_SECRETS:
        return []
    forms = {key, f"Bearer {key}", urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(key)}
    raw = key.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode().rstrip("="))
        # Inside a longer base64 text (e.g. "user:key"), the key starts at one of three byte
        # offsets; the characters that encode only its own bytes are the same each time.
        for pad in (1, 2):
            text = encode(b"\0" * pad + raw).decode().rstrip("=")
            forms.add(text[4:-4])
    return sorted((f for f in forms if len(f) >= _MIN_FORM or f == key), key=len, reverse=True)


class TextGuard:
    """One kind of text (content or reasoning) of one answer, piece by piece.

    A key may arrive split over pieces, so the end of a piece that could begin one is held
    back until the next piece (or the end) shows whether it does.
    """

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self.secrets = list(secrets)
        self.pattern = re.compile("|".join(map(re.escape, secrets))) if secrets else None
        self.firsts = {s[0] for s in secrets}
        self.longest = max((len(s) for s in secrets), default=0)
        self.held = ""
        self.replaced = 0  # characters that could not be stored
        self.redacted = 0  # keys taken out

    def feed(self, text: str) -> str:
        """The safe form of the next piece (maybe less of it, held back for the next)."""
        text, n = _UNSTORABLE.subn(REPLACEMENT, text)
        self.replaced += n
        if self.pattern is None:
            return text
        text, n = self.pattern.subn(REDACTED, self.held + text)
        self.redacted += n
        cut = self._hold_from(text)
        self.held = text[cut:]
        return text[:cut]

    def flush(self) -> str:
        """What was held back, at the end of the answer."""
        out, self.held = self.held, ""
        return out

    def _hold_from(self, text: str) -> int:
        """Where the longest end of `text` that could begin a key starts (len(text): none)."""
        for i in range(max(0, len(text) - self.longest + 1), len(text)):
            if text[i] in self.firsts and any(s.startswith(text[i:]) for s in self.secrets):
                return i
        return len(text)


def _notes(guards: dict[str, TextGuard]) -> list[str]:
    """What the guards changed, for the answer's record (admins only)."""
    notes = []
    for kind, guard in guards.items():
        if guard.replaced:
            notes.append(
                f"{kind}: {guard.replaced} character(s) that cannot be stored "
                "(lone surrogate or NUL) replaced with U+FFFD"
            )
        if guard.redacted:
            notes.append(f"{kind}: the endpoint's API key redacted {guard.redacted} time(s)")
    return notes


async def guarded(
    pieces: AsyncIterator[Delta | Finish], api_key: str, max_chars: int | None = None
) -> AsyncIterator[Delta | Finish]:
    """The pieces of one answer made safe; past `max_chars` characters (content and reasoning
    together) the answer ends there with finish reason "length" and the upstream is closed.
    The Finish carries notes of what changed."""
    secrets = secret_forms(api_key)
    guards = {"content": TextGuard(secrets), "reasoning": TextGuard(secrets)}
    left = max_chars
    try:
        async for item in pieces:
            if isinstance(item, Finish):
                ends = [Delta(k, g.flush()) for k, g in guards.items()]  # type: ignore[arg-type]
                items: list[Delta] = [d for d in ends if d.text]
            else:
                text = guards[item.kind].feed(item.text)
                items = [Delta(item.kind, text)] if text else []
            for delta in items:
                if left is not None and len(delta.text) > left:
                    if left:
                        yield Delta(delta.kind, delta.text[:left])
                    notes = [*_notes(guards), f"cut at max_answer_chars={max_chars}"]
                    yield Finish("length", notes=tuple(notes), truncated=True)
                    return
                if left is not None:
                    left -= len(delta.text)
                yield delta
            if isinstance(item, Finish):
                yield dataclasses.replace(item, notes=tuple(_notes(guards)))
                return
    finally:
        await pieces.aclose()  # type: ignore[attr-defined]
