"""What a turn's followers receive: text as it arrives, each side's end, the turn's end, pings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextEvent:
    """Text for one side; `replace` means it is the whole text so far (a replay), not a piece."""

    side: str
    kind: str  # content | reasoning
    text: str
    replace: bool = False


@dataclass(frozen=True, slots=True)
class SideDone:
    """One side finished: `done`, or `failed` with a neutral error for the voter."""

    side: str
    status: str
    error: str | None
    content: str
    reasoning: str | None = None
    stopped: bool = False  # the voter stopped it: complete as far as it goes, but cut short


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The turn is over; `status` is the battle's: `ready` (vote now) or `failed`."""

    status: str


@dataclass(frozen=True, slots=True)
class Ping:
    """Nothing new; keeps proxies from closing an idle stream."""


Event = TextEvent | SideDone | TurnEnd | Ping


KEEPALIVE_SECONDS = 15.0


# Once both sides are showing text, a follower's writes go out at most this often, each with all
# the pieces that arrived meanwhile: a reader sees no difference, and the worker makes a few writes
# a second per battle instead of one per token per side (the writes were its largest CPU cost).
FRAME_SECONDS = 0.04
