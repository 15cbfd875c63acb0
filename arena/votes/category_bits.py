"""The fixed registry of categories and their bits in `Vote.category_bits`.

A vote's categories are one BigInteger, so a category board is a bitwise AND over an integer
column (in SQL or numpy), never a JSON decode per vote. A bit, once given, is never reused or
moved: stored votes keep their meaning across releases. The 63 usable bits (a signed 64-bit
integer) are split into reserved ranges so that new categories never collide:

- bits 0-15: capabilities (what the prompt asks for),
- bits 16-23: the conversation's shape (long, multi-turn),
- bits 24-61: languages, one bit per known language; bit 62 is every other language.
"""

from __future__ import annotations

from collections.abc import Iterable

CAPABILITY_BITS: dict[str, int] = {
    "code": 0,
    "math": 1,
    "hard-prompts": 2,
    "creative-writing": 3,
    "instruction-following": 4,
}
SHAPE_BITS: dict[str, int] = {"long": 16, "multi-turn": 17}
LANGUAGE_BITS: dict[str, int] = {
    "english": 24,
    "chinese": 25,
    "japanese": 26,
    "korean": 27,
    "russian": 28,
    "other-language": 62,
}
BITS: dict[str, int] = {**CAPABILITY_BITS, **SHAPE_BITS, **LANGUAGE_BITS}

#: Every category, in the order the leaderboard offers them.
CATEGORIES: tuple[str, ...] = (*LANGUAGE_BITS, *CAPABILITY_BITS, *SHAPE_BITS)
#: The bits an LLM tagger decides; language and shape always come from the rules.
CAPABILITY_MASK = sum(1 << b for b in CAPABILITY_BITS.values())


def bit(name: str) -> int:
    """The mask of one category (0 for an unknown name, which matches no vote)."""
    b = BITS.get(name)
    return 0 if b is None else 1 << b


def bits_of(names: Iterable[str]) -> int:
    """The mask of several categories; unknown names are ignored."""
    mask = 0
    for name in names:
        mask |= bit(name)
    return mask


def names_of(mask: int) -> list[str]:
    """The categories set in a mask, in the registry's order."""
    return [c for c in CATEGORIES if mask & bit(c)]


def merge_capabilities(rule_bits: int, capability_bits: int) -> int:
    """A vote's bits with its capabilities replaced (an LLM's answer over the rules' guess)."""
    return (rule_bits & ~CAPABILITY_MASK) | (capability_bits & CAPABILITY_MASK)
