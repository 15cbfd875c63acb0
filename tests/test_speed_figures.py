"""The board's speed and cost figures as pure functions, the estimate, and the frontier picture."""

from __future__ import annotations

import re

import numpy as np
import pytest

from arena.upstream.tokens import estimate_messages, estimate_tokens
from arena.votes.speed import AnswerColumns, Prices, grouped_median, speed_figures
from arena.web.frontier import frontier_chart, pareto
from arena.web.money import format_money


def test_grouped_median_by_one_sort() -> None:
    groups = np.array([1, 1, 1, 2, 2, 3, 3, 3, 3], dtype=np.int64)
    values = np.array([5.0, 1.0, 3.0, 10.0, 20.0, np.nan, 4.0, 2.0, 8.0])
    assert grouped_median(groups, values) == {1: 3.0, 2: 15.0, 3: 4.0}
    assert grouped_median(groups[:0], values[:0]) == {}


def columns(rows: list[tuple[int, int, float, float, float | None, float | None]]) -> AnswerColumns:
    """Answers as (vote, endpoint, ttft ms, total ms, prompt tokens, completion tokens)."""
    nan = float("nan")
    return AnswerColumns(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
        np.array([nan if r[4] is None else r[4] for r in rows]),
        np.array([nan if r[5] is None else r[5] for r in rows]),
        np.zeros(len(rows), dtype=bool),
    )


def test_figures_cover_only_the_kept_votes_and_cost_all_turns() -> None:
    answers = columns(
        [
            # vote 1: a two-turn battle of endpoints 1 and 2
            (1, 1, 100.0, 1100.0, 10, 100),
            (1, 2, 300.0, 2300.0, 10, 50),
            (1, 1, 200.0, 1200.0, 30, 100),
            (1, 2, 500.0, 1500.0, 30, 50),
            # vote 2: one turn
            (2, 1, 300.0, 2300.0, 20, 300),
            (2, 2, 100.0, 600.0, 20, 100),
            (2, 2, 100.0, 150.0, 20, 100),  # 50 ms after its first token: no rate from it
            # vote 3: left out by the board (another category, or hygiene)
            (3, 1, 9999.0, 99999.0, 1_000_000, 1_000_000),
        ]
    )
    prices = {1: Prices(1.0, 2.0), 2: Prices(None, 4.0)}
    out = speed_figures(answers, np.array([1, 2], dtype=np.int64), prices)
    one = out[1]
    assert one["answers"] == 3
    assert one["ttft_p50_ms"] == 200.0
    assert one["answer_tokens_p50"] == 100.0
    # tokens / (total - ttft): 100/1.0, 100/1.0, 300/2.0 -> median 100
    assert one["tokens_per_s_p50"] == 100.0
    # two battles: (10+30+20)×1 + (100+100+300)×2 = 1060 per two battles, per million tokens
    assert one["cost_per_1k_battles"] == pytest.approx(1000 * 1060 / 2 / 1e6)
    assert out[2]["cost_per_1k_battles"] is None  # one price missing: unknown, not free
    assert out[2]["answers"] == 4
    # 50/2.0, 50/1.0, 100/0.5 (the 50 ms answer gives none) -> median 50
    assert out[2]["tokens_per_s_p50"] == 50.0
    assert speed_figures(answers, np.array([], dtype=np.int64), prices) == {}


def test_tokens_are_estimated_without_a_tokenizer() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    assert estimate_tokens("你好") == 2
    assert estimate_tokens("こんにちは、世界") == 8  # kana, ideographs and the full-width comma
    messages = [{"role": "user", "content": [{"type": "text", "text": "abcdefgh"}]}]
    assert estimate_messages([*messages, {"role": "assistant", "content": "你好"}]) == 4


def test_pareto_marks_the_models_no_other_beats_on_both() -> None:
    # (cost, rating): the cheapest, the best, one between, and two dominated ones.
    points = [(1.0, 1000.0), (10.0, 1100.0), (3.0, 1050.0), (5.0, 1040.0), (1.0, 990.0)]
    assert pareto(points) == [True, True, True, False, False]


def model(name: str, rating: float, cost: float | None, ttft: float | None) -> dict[str, object]:
    return {
        "model": name,
        "rating": rating,
        "ci_lower": rating - 20,
        "ci_upper": rating + 20,
        "cost_per_1k_battles": cost,
        "ttft_p50_ms": ttft,
    }


def test_the_frontier_chart_draws_priced_models_and_marks_the_best() -> None:
    models = [
        model("qwen3-max", 1100, 12.0, 900),
        model("qwen-plus", 1050, 2.0, 400),
        model("qwen-flash", 980, 0.3, 250),
        model("worse-and-dearer", 970, 5.0, 800),
        model("local-vllm", 1000, None, 150),
    ]
    svg = str(frontier_chart(models, x_key="cost_per_1k_battles", x_label="cost", currency="USD"))
    assert svg.count('class="pt best"') == 3 and svg.count('class="pt"') == 1
    assert "local-vllm" not in svg  # no price: not on the cost picture
    assert "(log scale)" in svg  # 0.3 to 12 spans more than a factor of 20
    assert re.search(r'viewBox="0 0 360 \d+"', svg)
    speed = str(frontier_chart(models, x_key="ttft_p50_ms", x_label="time"))
    assert "local-vllm" in speed and speed.count('class="pt best"') == 3
    assert str(frontier_chart([], x_key="ttft_p50_ms", x_label="time")) == ""


def test_money_is_readable() -> None:
    assert format_money(6.0) == "$6.00"
    assert format_money(0.6) == "$0.600"
    assert format_money(0.006) == "$0.00600"
    assert format_money(0.000412) == "$0.000412"
    assert format_money(12.5, "CHF") == "12.50 CHF"
    assert format_money(None) == "–"
