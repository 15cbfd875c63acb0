"""Identity leaks: a model naming itself (its name, id, organization or aliases) in its answer."""

from __future__ import annotations

import re
from collections.abc import Iterable

from arena.store.tables import Endpoint

# Generic words that would flag every answer; an organization like "OpenAI" is kept, "AI" is not.
_TOO_GENERIC = {"ai", "model", "assistant", "chat", "local", "labs", "the", "inc", "llc"}


def identity_terms(endpoint: Endpoint) -> list[str]:
    """What would give a model away: its arena name, upstream id, organization and aliases."""
    terms = [endpoint.name, endpoint.model, endpoint.organization or "", *endpoint.aliases]
    # "qwen-plus" also gives itself away as "qwen plus"; an id "org/model" as "model".
    more = [t.split("/")[-1] for t in terms] + [t.replace("-", " ") for t in terms]
    return sorted({t.strip() for t in [*terms, *more] if len(t.strip()) >= 3} - _TOO_GENERIC)


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    parts = [re.escape(t).replace(r"\ ", r"[\s_-]+") for t in terms if t]
    if not parts:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])", re.IGNORECASE)


def find_leak(texts: Iterable[str], terms: list[str]) -> str | None:
    """The first identity term found (word-bounded, any case) in a model's own output."""
    pattern = _pattern(terms)
    if pattern is None:
        return None
    for text in texts:
        m = pattern.search(text)
        if m:
            return m.group(0)
    return None
