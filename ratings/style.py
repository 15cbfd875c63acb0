"""Style features: markdown counts of an answer, and the normalised differences used in the fit."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADER = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")
_ORDERED = re.compile(r"^\s*\d{1,9}[.)][ \t]+\S")
_UNORDERED = re.compile(r"^\s*[-*+][ \t]+\S")
_BOLD_STARS = re.compile(r"\*\*[^*\n]+?\*\*")
_BOLD_UNDERSCORES = re.compile(r"__[^_\n]+?__")
# Approximate tokens: runs of word characters, and single other non-space characters.
_TOKEN = re.compile(r"\w+|[^\w\s]")


def _outside_code(text: str) -> list[str]:
    """Lines that are not inside fenced code blocks (``` or ~~~, closed by the same fence)."""
    lines: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
            lines.append(line)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
            fence = None
    return lines


def style_features(text: str) -> dict[str, Any]:
    """Markdown style counts of one answer; tokens count all text, the rest skip fenced code.

    ``tokens`` approximates a tokenizer as the number of ``\\w+`` runs plus other non-space
    characters (regex ``\\w+|[^\\w\\s]``). Headers are ATX ``#``-``######`` lines; list items are
    lines starting with ``-``/``*``/``+`` (unordered) or ``1.``/``1)`` (ordered); bold spans are
    ``**x**`` and ``__x__`` on one line.
    """
    headers = dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), 0)
    ordered = unordered = stars = underscores = 0
    for line in _outside_code(text):
        h = _HEADER.match(line)
        if h:
            headers[f"h{len(h.group(1))}"] += 1
        elif _ORDERED.match(line):
            ordered += 1
        elif _UNORDERED.match(line) and not re.match(r"^\s*([-*])(\s*\1){2,}\s*$", line):
            unordered += 1
        stars += len(_BOLD_STARS.findall(line))
        underscores += len(_BOLD_UNDERSCORES.findall(line))
    return {
        "tokens": len(_TOKEN.findall(text)),
        "headers": headers,
        "lists": {"ordered": ordered, "unordered": unordered},
        "bold": {"**": stars, "__": underscores},
    }


def conv_metadata(answers_a: list[str], answers_b: list[str]) -> dict[str, Any]:
    """The contract's ``conv_metadata`` for the assistant answers of both sides."""
    out: dict[str, Any] = {}
    for side, answers in (("a", answers_a), ("b", answers_b)):
        feats = [style_features(t) for t in answers]
        out[f"sum_assistant_{side}_tokens"] = sum(f["tokens"] for f in feats)
        for key, name in (
            ("headers", "header_count"),
            ("lists", "list_count"),
            ("bold", "bold_count"),
        ):
            total: dict[str, int] = {}
            for f in feats:
                for k, v in f[key].items():
                    total[k] = total.get(k, 0) + v
            out[f"{name}_{side}"] = total or dict(style_features("")[key])
    return out


def _sum_counts(value: Any) -> float:
    if isinstance(value, Mapping):
        return float(sum(float(v) for v in value.values()))
    return float(value)


def raw_from_metadata(meta: Mapping[str, Any]) -> tuple[list[float], list[float]] | None:
    """Raw [tokens, headers, lists, bold] of sides a and b from ``conv_metadata``, or None."""
    try:
        sides = []
        for s in ("a", "b"):
            sides.append(
                [
                    float(meta[f"sum_assistant_{s}_tokens"]),
                    _sum_counts(meta[f"header_count_{s}"]),
                    _sum_counts(meta[f"list_count_{s}"]),
                    _sum_counts(meta[f"bold_count_{s}"]),
                ]
            )
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if not all(np.isfinite(sides[0] + sides[1])):
        return None
    return sides[0], sides[1]


def _assistant_texts(conversation: Any) -> list[str] | None:
    if not isinstance(conversation, list):
        return None
    texts = []
    for m in conversation:
        if not isinstance(m, Mapping):
            return None
        if m.get("role") == "assistant" and isinstance(m.get("content"), str):
            texts.append(m["content"])
    return texts


def raw_from_conversations(
    conversation_a: Any, conversation_b: Any
) -> tuple[list[float], list[float]] | None:
    """Raw [tokens, headers, lists, bold] of sides a and b summed over their assistant answers,
    or None without two message lists that hold an answer (what an import stores as style)."""
    a, b = _assistant_texts(conversation_a), _assistant_texts(conversation_b)
    if a is None or b is None or not (a or b):
        return None
    return side_totals(a), side_totals(b)


def side_totals(answers: Iterable[str]) -> list[float]:
    """Raw [tokens, headers, lists, bold] of one side, summed over its answers."""
    total = [0.0, 0.0, 0.0, 0.0]
    for text in answers:
        f = style_features(text)
        total[0] += f["tokens"]
        total[1] += sum(f["headers"].values())
        total[2] += sum(f["lists"].values())
        total[3] += sum(f["bold"].values())
    return total


def normalised_features(style: NDArray[np.float64]) -> NDArray[np.float64]:
    """(a - b) / (a + b) per feature (0 when a + b == 0), then standardised to mean 0, sd 1.

    Columns without variation stay 0 (their coefficient is then reported as 0).
    """
    a, b = style[:, 0, :], style[:, 1, :]
    s = a + b
    diff = np.divide(a - b, s, out=np.zeros_like(a), where=s != 0)
    if len(diff) == 0:
        return diff
    mean = diff.mean(axis=0)
    sd = diff.std(axis=0)
    out: NDArray[np.float64] = np.divide(diff - mean, sd, out=np.zeros_like(diff), where=sd > 1e-12)
    return out
