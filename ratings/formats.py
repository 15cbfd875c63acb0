"""Leaderboard exports: the contract's JSON, CSV, Markdown and a plain-text table."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from typing import Any

from ratings.leaderboard import Leaderboard, ModelRating

#: The contract's per-model columns, in order; every format carries exactly these.
COLUMNS: tuple[str, ...] = (
    "model",
    "rating",
    "ci_lower",
    "ci_upper",
    "rank",
    "rank_ub",
    "battles",
    "wins",
    "losses",
    "ties",
    "win_rate",
    "preliminary",
    "rank_lb",
)
_EXTRA: tuple[str, ...] = ("elo", "component", "flagged")
#: Columns that follow COLUMNS in CSV and Markdown when the rows carry them (a category board's
#: rank on the unfiltered board).
OPTIONAL_COLUMNS: tuple[str, ...] = ("rank_overall",)
#: Per-model speed and cost: an arena's board carries them (it names a ``currency``), a board
#: computed from a battle file, which has no timings, does not.
SPEED_COLUMNS: tuple[str, ...] = (
    "ttft_p50_ms",
    "tokens_per_s_p50",
    "answer_tokens_p50",
    "cost_per_1k_battles",
    "answers",
)


def _columns(lb: Leaderboard | Mapping[str, Any]) -> tuple[str, ...]:
    """The columns an export of this board has."""
    speed = SPEED_COLUMNS if isinstance(lb, Mapping) and "currency" in lb else ()
    return COLUMNS + speed + _optional(lb)


def _extra_cell(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.6g}" if abs(x) < 1 else f"{x:.2f}".rstrip("0").rstrip(".")
    return str(x)


def _clean(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def _model_dict(r: ModelRating) -> dict[str, Any]:
    d: dict[str, Any] = {c: getattr(r, c) for c in COLUMNS + _EXTRA}
    for c in ("rating", "ci_lower", "ci_upper", "win_rate", "elo"):
        d[c] = _clean(d[c])
    return d


def to_json_dict(lb: Leaderboard) -> dict[str, Any]:
    """The contract's Leaderboard JSON (plus ``warnings`` and ``style_coefficients``)."""
    return {
        "generated_at": lb.generated_at,
        "total_battles": lb.total_battles,
        "method": lb.method,
        "ci": lb.ci,
        "style_control": lb.style_control,
        "category": lb.category,
        "ties": lb.ties,
        "reweighted": lb.reweighted,
        "models": [_model_dict(r) for r in lb.models],
        "style_coefficients": lb.style_coefficients,
        "warnings": list(lb.warnings),
    }


def _cells(r: Mapping[str, Any]) -> list[str]:
    """Row values as text: ratings to 2 decimals, win rate to 4, booleans lower-case."""

    def num(x: Any, digits: int) -> str:
        return "" if x is None else f"{x:.{digits}f}"

    return [
        str(r["model"]),
        num(r["rating"], 2),
        num(r["ci_lower"], 2),
        num(r["ci_upper"], 2),
        str(r["rank"]),
        str(r["rank_ub"]),
        str(r["battles"]),
        str(r["wins"]),
        str(r["losses"]),
        str(r["ties"]),
        num(r["win_rate"], 4),
        "true" if r["preliminary"] else "false",
        str(r.get("rank_lb", r["rank_ub"])),
    ]


def _optional(lb: Leaderboard | Mapping[str, Any]) -> tuple[str, ...]:
    models = lb["models"] if isinstance(lb, Mapping) else []
    return tuple(c for c in OPTIONAL_COLUMNS if any(c in m for m in models))


def _rows(lb: Leaderboard | Mapping[str, Any]) -> list[list[str]]:
    """The per-model rows of a Leaderboard or of its JSON dict, as text cells."""
    models = lb["models"] if isinstance(lb, Mapping) else [_model_dict(r) for r in lb.models]
    extra = _columns(lb)[len(COLUMNS) :]
    return [_cells(m) + [_extra_cell(m.get(c)) for c in extra] for m in models]


def to_csv(lb: Leaderboard | Mapping[str, Any]) -> str:
    """CSV with a header row of ``COLUMNS`` (from a Leaderboard or its JSON dict)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_columns(lb))
    for row in _rows(lb):
        w.writerow(row)
    return buf.getvalue()


def to_markdown(lb: Leaderboard | Mapping[str, Any]) -> str:
    """GitHub-flavoured Markdown table of ``COLUMNS``."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("|", "\\|")

    columns = _columns(lb)
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" if c == "model" else "---:" for c in columns) + "|",
    ]
    for row in _rows(lb):
        lines.append("| " + " | ".join(esc(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def to_table(lb: Leaderboard | Mapping[str, Any]) -> str:
    """Aligned plain-text table for terminals, followed by any warnings."""
    rows = [list(_columns(lb)), *_rows(lb)]
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    out = []
    for row in rows:
        out.append(
            "  ".join(
                c.ljust(w) if k == 0 else c.rjust(w)
                for k, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    warnings = lb.get("warnings", []) if isinstance(lb, Mapping) else lb.warnings
    out.extend(f"warning: {w}" for w in warnings)
    return "\n".join(out) + "\n"
