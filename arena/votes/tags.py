"""Rule-based tags of a conversation, for leaderboard categories (no model, no network)."""

from __future__ import annotations

import hashlib
import re

from arena.votes.capability_rules import (
    is_code,
    is_creative_writing,
    is_instruction_following,
    is_math,
)
from arena.votes.category_bits import CATEGORIES
from arena.votes.hard_prompts import is_hard
from ratings import style_features
from ratings.style import side_totals

__all__ = [
    "CATEGORIES",
    "conversation_tags",
    "prompt_hash",
    "prompt_tags",
    "style_vector",
    "with_answers",
]

LONG_PROMPT_TOKENS = 500
#: How many of the seven criteria the rules need for a hard prompt (`hard_prompt_rules_threshold`).
DEFAULT_HARD_THRESHOLD = 4

_CODE = re.compile(
    r"```|^\s*(def |class |import |from \S+ import|#include|function |const |let |var |public |"
    r"SELECT |CREATE TABLE|package |fn |func )|=>|\b(printf|console\.log|System\.out)\b",
    re.MULTILINE | re.IGNORECASE,
)
_SCRIPTS = (
    ("japanese", re.compile(r"[\u3040-\u30ff]")),
    ("korean", re.compile(r"[\uac00-\ud7af]")),
    ("chinese", re.compile(r"[\u4e00-\u9fff]")),
    ("russian", re.compile(r"[\u0400-\u04ff]")),
)
_ENGLISH = re.compile(
    r"\b(the|and|is|are|what|how|why|you|please|can|write|explain|of|to|in|for)\b", re.I
)


def language(text: str) -> str:
    """A coarse language tag from the script and common words of a prompt."""
    letters = sum(ch.isalpha() for ch in text) or 1
    for name, pattern in _SCRIPTS:
        if len(pattern.findall(text)) / letters > 0.2:
            return name
    ascii_letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    if ascii_letters / letters > 0.9 and (_ENGLISH.search(text) or len(text.split()) <= 3):
        return "english"
    return "other-language"


def capability_tags(text: str, hard_threshold: int = DEFAULT_HARD_THRESHOLD) -> list[str]:
    """The capabilities a prompt asks for, by the rules (code, math, hard prompts, ...)."""
    checks = (
        ("code", is_code),
        ("math", is_math),
        ("hard-prompts", lambda t: is_hard(t, hard_threshold)),
        ("creative-writing", is_creative_writing),
        ("instruction-following", is_instruction_following),
    )
    return [name for name, check in checks if check(text)]


def conversation_tags(
    prompts: list[str],
    answers_a: list[str],
    answers_b: list[str],
    hard_threshold: int = DEFAULT_HARD_THRESHOLD,
) -> list[str]:
    """The categories a battle belongs to: its language, capabilities, long and multi-turn."""
    return with_answers(prompt_tags(prompts, hard_threshold), answers_a, answers_b)


PromptTags = tuple[list[str], list[str]]


def prompt_tags(prompts: list[str], hard_threshold: int = DEFAULT_HARD_THRESHOLD) -> PromptTags:
    """What the prompts alone decide: the tags before the answers' code (language and
    capabilities), and after it (long, multi-turn); `with_answers` puts them together. Apart,
    an import can reuse them for a prompt it has seen."""
    head = [language(prompts[0] if prompts else "")]
    head += capability_tags("\n\n".join(prompts), hard_threshold)
    tail = []
    if sum(style_features(p)["tokens"] for p in prompts) >= LONG_PROMPT_TOKENS:
        tail.append("long")
    if len(prompts) > 1:
        tail.append("multi-turn")
    return head, tail


def with_answers(tags: PromptTags, answers_a: list[str], answers_b: list[str]) -> list[str]:
    """A battle's categories from its `prompt_tags` and its answers (a new list)."""
    head, tail = tags
    if "code" not in head and any(_CODE.search(t) for t in [*answers_a, *answers_b]):
        return [*head, "code", *tail]
    return [*head, *tail]


def style_vector(answers_a: list[str], answers_b: list[str]) -> list[float]:
    """[tokens, headers, lists, bold] of side a then side b, summed over the turns."""
    return side_totals(answers_a) + side_totals(answers_b)


def prompt_hash(prompt: str) -> str:
    """A hash of a prompt with case and white space folded (for the repeated-prompt cap)."""
    folded = " ".join(prompt.lower().split())
    return hashlib.sha256(folded.encode()).hexdigest()[:32]
