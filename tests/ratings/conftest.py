"""Synthetic battles for the ratings tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from ratings import Battles

SCALE = 400.0 / np.log(10.0)


def simulate(
    strengths: NDArray[np.float64],
    n: int,
    *,
    tie_rate: float = 0.3,
    seed: int = 0,
    style: NDArray[np.float64] | None = None,
    style_effect: float = 0.0,
) -> Battles:
    """Battles between random pairs; P(a wins) + P(tie)/2 = sigmoid(s_a - s_b [+ effect * z]).

    Ties take ``tie_rate * 2 * min(p, 1 - p)``, so ties-as-half BT is the correct model.
    With ``style`` (n, 2, 4) the first feature's standardised normalised difference ``z``
    shifts the logit by ``style_effect``.
    """
    rng = np.random.default_rng(seed)
    m = len(strengths)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    logit = strengths[a] - strengths[b]
    if style is not None:
        sa, sb = style[:, 0, 0], style[:, 1, 0]
        d = (sa - sb) / (sa + sb)
        logit = logit + style_effect * (d - d.mean()) / d.std()
    p = 1.0 / (1.0 + np.exp(-logit))
    tie = tie_rate * 2.0 * np.minimum(p, 1.0 - p)
    u = rng.random(n)
    outcome = np.where(u < p - tie / 2, 0, np.where(u < p + tie / 2, 2, 1))
    # Some ties are "both bad": they must count exactly like plain ties.
    outcome = np.where((outcome == 2) & (rng.random(n) < 0.3), 3, outcome)
    names = [f"model-{k:03d}" for k in range(m)]
    return Battles.from_arrays(names, a, b, outcome, style=style)


def true_ratings(strengths: NDArray[np.float64]) -> NDArray[np.float64]:
    """Strengths on the rating scale, centred at 1000."""
    r = strengths * SCALE
    return np.asarray(r - r.mean() + 1000.0)


@pytest.fixture
def make_battles() -> Callable[..., Battles]:
    """Factory: ``make_battles(strengths, n, tie_rate=..., seed=...)``."""
    return simulate


@pytest.fixture
def to_true() -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """Factory: true ratings from strengths."""
    return true_ratings


@pytest.fixture
def by_name() -> Callable[..., dict[str, float]]:
    """Factory: {model: rating} (or another field) of a leaderboard."""

    def get(lb: object, field: str = "rating") -> dict[str, float]:
        return {r.model: getattr(r, field) for r in lb.models}  # type: ignore[attr-defined]

    return get
