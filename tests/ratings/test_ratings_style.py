"""Style control: markdown feature counts and recovery of a planted style effect."""

from __future__ import annotations

import numpy as np
import pytest

from ratings import Battles, compute_leaderboard, conv_metadata, style_features
from ratings.style import normalised_features

ANSWER = """# Title
Some **bold** text and __more bold__ and **another**.

## Section
- one
- two
* three
1. first
2) second

```python
# not a header
- not a list
**not bold**
```
~~~
### also code
~~~
#### Real h4
#hashtag is not a header
"""


def test_style_features_counts_markdown_outside_code():
    f = style_features(ANSWER)
    assert f["headers"] == {"h1": 1, "h2": 1, "h3": 0, "h4": 1, "h5": 0, "h6": 0}
    assert f["lists"] == {"ordered": 2, "unordered": 3}
    assert f["bold"] == {"**": 2, "__": 1}
    assert f["tokens"] > 40


def test_style_features_tokens_and_empty():
    assert style_features("Hello, world!")["tokens"] == 4
    empty = style_features("")
    assert empty["tokens"] == 0 and sum(empty["headers"].values()) == 0
    assert empty["lists"] == {"ordered": 0, "unordered": 0}


def test_unclosed_fence_hides_the_rest():
    f = style_features("# h\n```\n# hidden\n- hidden")
    assert f["headers"]["h1"] == 1 and f["lists"]["unordered"] == 0


def test_conv_metadata_has_contract_keys():
    meta = conv_metadata([ANSWER, "plain"], ["- x"])
    assert meta["sum_assistant_a_tokens"] == style_features(ANSWER)["tokens"] + 1
    assert meta["header_count_a"]["h1"] == 1 and meta["list_count_b"] == {
        "ordered": 0,
        "unordered": 1,
    }
    assert set(meta["bold_count_b"]) == {"**", "__"}


def test_normalised_features():
    style = np.array([[[30, 0, 2, 1], [10, 0, 0, 1]], [[10, 0, 0, 3], [10, 0, 0, 1]]], float)
    z = normalised_features(style)
    # (a-b)/(a+b): tokens 0.5 and 0 -> standardised to +1 / -1; headers all 0 -> stays 0.
    assert z[:, 0] == pytest.approx([1.0, -1.0])
    assert z[:, 1] == pytest.approx([0.0, 0.0])


def _style_data(make_battles, effect, seed=31, n=60_000):
    rng = np.random.default_rng(seed)
    style = rng.integers(0, 50, size=(n, 2, 4)).astype(float)
    style[:, :, 0] = rng.lognormal(6.0, 0.6, size=(n, 2))
    return make_battles(
        np.array([0.0, 0.4, -0.4, 0.8, -0.8, 0.2]), n, seed=seed, style=style, style_effect=effect
    )


def test_recovers_planted_length_coefficient(make_battles, to_true):
    b = _style_data(make_battles, 0.5)
    lb = compute_leaderboard(b, style_control=True)
    coef = lb.style_coefficients
    assert coef is not None and lb.style_control
    assert coef["tokens"]["coef"] == pytest.approx(0.5, abs=0.04)
    assert coef["tokens"]["ci_lower"] < 0.5 < coef["tokens"]["ci_upper"]
    for k in ("headers", "lists", "bold"):
        assert abs(coef[k]["coef"]) < 0.05
    true = to_true(np.array([0.0, 0.4, -0.4, 0.8, -0.8, 0.2]))
    for r in lb.models:
        assert r.rating == pytest.approx(true[int(r.model[-3:])], abs=15)


def test_style_bootstrap_agrees_with_sandwich(make_battles):
    b = _style_data(make_battles, 0.5, seed=32, n=20_000)
    sw = compute_leaderboard(b, style_control=True)
    bs = compute_leaderboard(b, style_control=True, ci="bootstrap", rounds=200, seed=3)
    assert sw.style_coefficients is not None and bs.style_coefficients is not None
    w_sw = sw.style_coefficients["tokens"]["ci_upper"] - sw.style_coefficients["tokens"]["ci_lower"]
    w_bs = bs.style_coefficients["tokens"]["ci_upper"] - bs.style_coefficients["tokens"]["ci_lower"]
    assert w_bs == pytest.approx(w_sw, rel=0.25)
    for x, y in zip(sw.models, bs.models, strict=True):
        assert x.rating == pytest.approx(y.rating)
        assert y.ci_upper - y.ci_lower == pytest.approx(x.ci_upper - x.ci_lower, rel=0.25)


def test_no_style_effect_gives_plain_ratings(make_battles):
    b = _style_data(make_battles, 0.0, seed=33, n=20_000)
    plain = {r.model: r.rating for r in compute_leaderboard(b).models}
    styled = compute_leaderboard(b, style_control=True)
    assert styled.style_coefficients is not None
    for name, coef in styled.style_coefficients.items():
        assert coef["ci_lower"] < 0.0 < coef["ci_upper"], name
    for r in styled.models:
        assert r.rating == pytest.approx(plain[r.model], abs=3)


def test_style_control_needs_features_and_skips_unknown_rows():
    b = Battles.from_records([("a", "b", "model_a")])
    with pytest.raises(ValueError, match="style"):
        compute_leaderboard(b, style_control=True)
    recs = [("a", "b", "model_a", [100, 1, 0, 0], [50, 0, 0, 0])] * 5
    recs += [("b", "a", "model_a", [80, 0, 2, 1], [90, 0, 0, 0])] * 4
    sb = Battles.from_style_records(recs)
    style = sb.style.copy()
    style[0] = np.nan
    sb = Battles.from_arrays(sb.names, sb.model_a, sb.model_b, sb.outcome, style=style)
    lb = compute_leaderboard(sb, style_control=True)
    assert lb.total_battles == 8
    assert any("without style features" in w for w in lb.warnings)
