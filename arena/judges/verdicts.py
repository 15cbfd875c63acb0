"""The arena-hard verdict labels: finding the last one in a judge's reply, and what it means for
the battle once the order the judge saw is undone."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Best for A first. `[[A>>B]]` and `[[B>>A]]` are the strong verdicts.
LABELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
STRONG = frozenset({"A>>B", "B>>A"})
# Judges write these too (arena-hard's regex accepts any of A, B, <, >, =); `A<B` is `B>A`.
_SYNONYMS = {"A<B": "B>A", "A<<B": "B>>A", "B<A": "A>B", "B<<A": "A>>B", "B=A": "A=B"}
_LABEL = re.compile(r"\[\[\s*([AB<>=]+)\s*\]\]")


@dataclass(frozen=True)
class Verdict:
    """A parsed verdict: the label as written, and who won in the battle's own orientation."""

    label: str
    outcome: str  # model_a | model_b | tie
    strong: bool


def last_label(reply: str) -> str | None:
    """The last verdict label in a reply (the judge's final word), or None when there is none."""
    for raw in reversed(_LABEL.findall(reply)):
        label = _SYNONYMS.get(str(raw), str(raw))
        if label in LABELS:
            return label
    return None


def verdict(reply: str, *, swapped: bool) -> Verdict | None:
    """The judge's verdict on the battle: `swapped` means the judge saw b's answer as A's."""
    label = last_label(reply)
    if label is None:
        return None
    if label == "A=B":
        return Verdict(label, "tie", False)
    a_won = label.startswith("A>")
    if swapped:
        a_won = not a_won
    return Verdict(label, "model_a" if a_won else "model_b", label in STRONG)


def score(outcome: str | None) -> int:
    """+1 when a won, -1 when b won, 0 for a tie or no verdict."""
    return {"model_a": 1, "model_b": -1}.get(outcome or "", 0)
