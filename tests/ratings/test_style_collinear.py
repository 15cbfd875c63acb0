"""Style control when a style feature coincides with one model: detected, said, dropped."""

from __future__ import annotations

import numpy as np

from ratings import Battles, compute_leaderboard
from ratings.formats import to_json_dict


def planted(n: int = 3000, seed: int = 1) -> Battles:
    """Four models; only "headers-bot" ever writes headers, lengths vary at random."""
    rng = np.random.default_rng(seed)
    names = ["headers-bot", "b", "c", "d"]
    strength = np.array([0.4, 0.0, -0.2, 0.3])
    a = rng.integers(0, 4, n)
    b = (a + rng.integers(1, 4, n)) % 4
    style = np.zeros((n, 2, 4))
    style[:, :, 0] = rng.integers(50, 500, (n, 2))  # tokens: independent of the model
    style[:, 0, 1] = np.where(a == 0, 3.0, 0.0)  # headers: the first model's, and only its
    style[:, 1, 1] = np.where(b == 0, 3.0, 0.0)
    style[:, :, 3] = rng.integers(0, 3, (n, 2))  # bold: independent
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    outcome = np.where(rng.random(n) < p, 0, 1)
    return Battles.from_arrays(names, a, b, outcome, style=style)


def test_collinear_feature_is_dropped_with_a_warning() -> None:
    lb = compute_leaderboard(planted(), style_control=True)
    data = to_json_dict(lb)
    assert any("headers" in w and "headers-bot" in w for w in data["warnings"]), data["warnings"]
    widths = {m["model"]: m["ci_upper"] - m["ci_lower"] for m in data["models"]}
    # Every model has ~1500 battles: a sane interval is well under 100 points wide.
    assert max(widths.values()) < 100, widths
    headers = data["style_coefficients"]["headers"]
    assert headers["coef"] == 0.0 and headers.get("dropped") is True
    assert not data["style_coefficients"]["tokens"].get("dropped")


def test_independent_features_are_kept() -> None:
    battles = planted()
    assert battles.style is not None
    battles.style[:, :, 1] = np.random.default_rng(5).integers(0, 4, (len(battles), 2))
    data = to_json_dict(compute_leaderboard(battles, style_control=True))
    assert not [w for w in data["warnings"] if "collinear" in w]
    assert not any(c.get("dropped") for c in data["style_coefficients"].values())
