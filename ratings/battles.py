"""Battles as integer arrays: the input of every rating method."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Outcome codes, in the order of the contract's winner labels.
MODEL_A, MODEL_B, TIE, TIE_BOTHBAD = 0, 1, 2, 3
WINNER_CODES: dict[str, int] = {
    "model_a": MODEL_A,
    "model_b": MODEL_B,
    "tie": TIE,
    "tie (bothbad)": TIE_BOTHBAD,
}
#: Style features, in the order of the last axis of ``Battles.style``.
STYLE_FEATURES: tuple[str, ...] = ("tokens", "headers", "lists", "bold")


@dataclass(frozen=True)
class Battles:
    """Battles in vote order: model ids index ``names``; outcome codes 0-3 as ``WINNER_CODES``."""

    names: list[str]
    model_a: NDArray[np.int32]
    model_b: NDArray[np.int32]
    outcome: NDArray[np.int8]
    weights: NDArray[np.float64] | None = None
    #: Raw style features, shape (n, 2, 4): side a/b x (tokens, headers, lists, bold); NaN unknown.
    style: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        n = len(self.model_a)
        if len(self.model_b) != n or len(self.outcome) != n:
            raise ValueError("model_a, model_b and outcome must have the same length")
        if self.weights is not None and self.weights.shape != (n,):
            raise ValueError("weights must have shape (n,)")
        if self.style is not None and self.style.shape != (n, 2, len(STYLE_FEATURES)):
            raise ValueError("style must have shape (n, 2, 4)")
        if n:
            m = len(self.names)
            lo = min(int(self.model_a.min()), int(self.model_b.min()))
            hi = max(int(self.model_a.max()), int(self.model_b.max()))
            if lo < 0 or hi >= m:
                raise ValueError("model ids must index names")
            if int(self.outcome.min()) < 0 or int(self.outcome.max()) > TIE_BOTHBAD:
                raise ValueError("outcome codes must be 0..3")
            if bool(np.any(self.model_a == self.model_b)):
                raise ValueError("a model cannot battle itself")

    def __len__(self) -> int:
        return len(self.model_a)

    @classmethod
    def from_arrays(
        cls,
        names: Sequence[str],
        model_a: Sequence[int] | NDArray[np.integer],
        model_b: Sequence[int] | NDArray[np.integer],
        outcome: Sequence[int] | NDArray[np.integer],
        *,
        weights: Sequence[float] | NDArray[np.floating] | None = None,
        style: NDArray[np.floating] | None = None,
    ) -> Battles:
        """Build battles from array-likes, converting dtypes."""
        return cls(
            names=list(names),
            model_a=np.asarray(model_a, dtype=np.int32),
            model_b=np.asarray(model_b, dtype=np.int32),
            outcome=np.asarray(outcome, dtype=np.int8),
            weights=None if weights is None else np.asarray(weights, dtype=np.float64),
            style=None if style is None else np.asarray(style, dtype=np.float64),
        )

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, str, str]]) -> Battles:
        """Build battles from (model_a, model_b, winner_label) tuples; unknown labels raise."""
        ids: dict[str, int] = {}
        a: list[int] = []
        b: list[int] = []
        out: list[int] = []
        for ma, mb, winner in records:
            if winner not in WINNER_CODES:
                raise ValueError(f"unknown winner {winner!r}")
            a.append(ids.setdefault(ma, len(ids)))
            b.append(ids.setdefault(mb, len(ids)))
            out.append(WINNER_CODES[winner])
        return cls.from_arrays(list(ids), a, b, out)

    @classmethod
    def from_style_records(
        cls,
        records: Iterable[tuple[str, str, str, Sequence[float], Sequence[float]]],
    ) -> Battles:
        """Build battles from (model_a, model_b, winner, style_a, style_b) tuples."""
        plain: list[tuple[str, str, str]] = []
        style: list[tuple[Sequence[float], Sequence[float]]] = []
        for ma, mb, winner, sa, sb in records:
            plain.append((ma, mb, winner))
            style.append((sa, sb))
        base = cls.from_records(plain)
        arr = np.asarray(style, dtype=np.float64).reshape(len(plain), 2, len(STYLE_FEATURES))
        return cls.from_arrays(base.names, base.model_a, base.model_b, base.outcome, style=arr)

    def select(self, mask: NDArray[np.bool_]) -> Battles:
        """Return the battles where ``mask`` is true, keeping names and order."""
        return Battles(
            names=self.names,
            model_a=self.model_a[mask],
            model_b=self.model_b[mask],
            outcome=self.outcome[mask],
            weights=None if self.weights is None else self.weights[mask],
            style=None if self.style is None else self.style[mask],
        )
