"""Rating against cost and speed, and the reveal with costs, in Chromium at 1280 and 375 px.

Screenshots go to tests/artifacts/ (frontier-desktop.png, frontier-phone.png, reveal-costs-*.png)
for a human to look at; the asserts catch what a human would: pictures cut off, labels outside,
costs missing or off screen.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
import tomli_w
from playwright.sync_api import Locator, expect

from tests.browser.browsing import DESKTOP, PHONE, Tab, play
from tests.conftest import read_events
from tests.fake_openai import Behavior, FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

# name: (input price, output price, seconds a token, first-token delay s, quality)
LINEUP = {
    "qwen3-max": (1.2, 6.0, 0.02, 0.25, 4),
    "qwen-plus": (0.4, 1.2, 0.01, 0.12, 3),
    "qwen-flash": (0.05, 0.4, 0.005, 0.04, 2),
    "qwen3-32b-on-our-vllm": (None, None, 0.008, 0.02, 1),
}
WORDS = 30  # each answer is this many tokens, streamed at its model's rate


def lineup_file(path: Path, base_url: str) -> Path:
    rows = []
    for name, (inp, out, _, _, _) in LINEUP.items():
        row = {"name": name, "base_url": base_url, "model": f"up-{name}"}
        if inp is not None:
            row |= {"input_price": inp, "output_price": out}
        rows.append(row)
    path.write_text(tomli_w.dumps({"models": rows}))
    return path


def box(loc: Locator) -> dict[str, float]:
    b = loc.bounding_box()
    assert b is not None, loc
    return dict(b)


def inside(inner: Locator, outer: Locator, what: str) -> None:
    a, b = box(inner), box(outer)
    for start, size in (("x", "width"), ("y", "height")):
        assert a[start] >= b[start] - 0.5, (what, a, b)
        assert a[start] + a[size] <= b[start] + b[size] + 0.5, (what, a, b)


def vote_for_quality(client: httpx.Client, i: int) -> None:
    """One battle through the API, voting for the answer that says it is better."""
    r = client.post("/api/battles", json={"prompt": f"Explain recursion briefly ({i})."})
    assert r.status_code == 201, r.text
    battle = r.json()["battle_id"]
    read_events(client, f"/api/battles/{battle}/stream")
    turn = client.get(f"/api/battles/{battle}").json()["turns"][0]
    qa, qb = (int(turn[s]["content"].split("quality ")[1][0]) for s in ("a", "b"))
    winner = "model_a" if qa > qb else "model_b" if qb > qa else "tie"
    assert client.post(f"/api/battles/{battle}/vote", json={"winner": winner}).status_code == 200


def test_frontier_charts_and_reveal_with_costs(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
    tmp_path: Path,
) -> None:
    for name, (_, _, per_token, delay, quality) in LINEUP.items():
        filler = " ".join(["and"] * (WORDS - 8))
        fake.set_behavior(
            f"up-{name}",
            Behavior(
                reply=f"Recursion is a function calling itself (quality {quality}) {filler}.",
                first_token_delay=delay,
                token_delay=per_token,
            ),
        )
    models = lineup_file(tmp_path / "lineup.toml", fake.base_url)
    with arena_server(models=models, min_battles=0, leaderboard_refresh_seconds=0.2) as arena:
        with httpx.Client(base_url=arena.url, timeout=30) as client:
            for i in range(24):
                vote_for_quality(client, i)
            fake.wait_for(
                lambda: client.get("/api/leaderboard").json()["total_battles"] == 24, timeout=20
            )
        tab = open_tab(arena.url + "/leaderboard")
        page = tab.page
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.goto(arena.url + "/leaderboard")
            tab.assert_no_horizontal_overflow()
            for kind in ("cost", "speed"):
                svg = page.locator(f"svg.frontier.{kind}")
                expect(svg).to_have_count(1)
                figure = page.locator("figure", has=svg)
                inside(svg, figure, f"{kind} picture in its frame")
                wrap = figure.locator(".svg-wrap")
                assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "cut off"
                for label in svg.locator("text").all():
                    inside(label, svg, f"label {label.text_content()!r}")
                # Text stays legible on a phone: drawn at no less than 85% of its size.
                assert box(svg)["width"] >= 0.85 * 360 or size == "desktop"
                figure.scroll_into_view_if_needed()
                tab.screenshot(f"frontier-{kind}-{size}", of=figure)
            cost = page.locator("svg.frontier.cost")
            # The unpriced vLLM model is not on the cost picture; the cheapest is on the frontier.
            assert "qwen3-32b-on-our-vllm" not in (cost.text_content() or "")
            expect(cost.locator("g.pt.best", has_text="qwen-flash")).to_have_count(1)
            expect(page.locator("figure", has=cost)).to_contain_text("no prices")
            tab.screenshot(f"frontier-page-{size}")

        # The reveal: each side's time, tokens and cost next to its name.
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            play(page, "Explain recursion briefly.", vote="A is better")
            lines = page.locator(".names .side-figures")
            expect(lines).to_have_count(2)
            for line in lines.all():
                expect(line).to_contain_text("first token")
                expect(line).to_contain_text("tokens")
                expect(line).to_be_in_viewport()
            text = " ".join(lines.all_inner_texts())
            assert "$" in text or "no price" in text
            tab.assert_no_horizontal_overflow()
            tab.screenshot(f"reveal-costs-{size}")
        tab.assert_clean()
