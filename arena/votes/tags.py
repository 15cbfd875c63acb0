"""Rule-based tags of a conversation, for leaderboard categories (no model, no network)."""

from __future__ import annotations

import hashlib
import re

from ratings import style_features
from ratings.style import side_totals

LONG_PROMPT_TOKENS = 500
CATEGORIES = (
    "english",
    "chinese",
    "japanese",
    "korean",
    "russian",
    "other-language",
    "code",
    "long",
    "multi-turn",
)

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


def conversation_tags(prompts: list[str], answers_a: list[str], answers_b: list[str]) -> list[str]:
    """The categories a battle belongs to: its language, and code / long / multi-turn."""
    tags = [language(prompts[0] if prompts else "")]
    if any(_CODE.search(t) for t in [*prompts, *answers_a, *answers_b]):
        tags.append("code")
    if sum(style_features(p)["tokens"] for p in prompts) >= LONG_PROMPT_TOKENS:
        tags.append("long")
    if len(prompts) > 1:
        tags.append("multi-turn")
    return tags


def style_vector(answers_a: list[str], answers_b: list[str]) -> list[float]:
    """[tokens, headers, lists, bold] of side a then side b, summed over the turns."""
    return side_totals(answers_a) + side_totals(answers_b)


def prompt_hash(prompt: str) -> str:
    """A hash of a prompt with case and white space folded (for the repeated-prompt cap)."""
    folded = " ".join(prompt.lower().split())
    return hashlib.sha256(folded.encode()).hexdigest()[:32]
