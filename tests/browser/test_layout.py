"""The arena's layout at desktop and phone width: no sideways scrolling, code and tables readable.

Screenshots go to tests/artifacts/ for a human to look at; the asserts catch what a human would.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.browsing import DESKTOP, PHONE, Tab
from tests.fake_openai import Behavior, FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

CODE_LINE = (
    "def summarise(rivers: list[str], *, longest_first: bool = True, limit: int = 10) -> "
    "dict[str, int]:  # a line far wider than any phone"
)
RICH = (
    "Here is the code you asked for, with a table of results below it.\n\n"
    "```python\n"
    f"{CODE_LINE}\n"
    "    return {name: len(name) for name in sorted(rivers, reverse=longest_first)[:limit]}\n"
    "```\n\n"
    "| River | Continent | Length (km) | Discharge (m³/s) | Basin (km²) | Countries | Mouth |\n"
    "|---|---|---|---|---|---|---|\n"
    "| Nile | Africa | 6650 | 2800 | 3254555 | Eleven countries | Mediterranean Sea |\n"
    "| Amazon | South America | 6400 | 209000 | 7000000 | Seven countries | Atlantic Ocean |\n\n"
    f"An unbroken token: {'x' * 120}\n\n"
    + " ".join(f"More words ({i}) to keep the stream going for a while." for i in range(40))
)
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def inside(inner: Locator, outer: Locator) -> None:
    """`inner` lies horizontally within `outer` (it may scroll inside, not stick out)."""
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a is not None and b is not None
    assert a["x"] >= b["x"] - 0.5 and a["x"] + a["width"] <= b["x"] + b["width"] + 0.5, (a, b)


def check(tab: Tab, name: str) -> None:
    tab.assert_no_horizontal_overflow()
    tab.screenshot(name)


def panes(page: Page) -> list[Locator]:
    return [page.locator(f'.pane:has(.answer-wrap[data-side="{s}"])').last for s in "ab"]


@pytest.mark.parametrize("size", SIZES)
def test_arena_layout(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab], size: str
) -> None:
    fake.set_default(Behavior(reply=RICH, token_delay=0.02, tokens_per_chunk=2))
    tab = open_tab(arena.url, viewport=SIZES[size])
    page = tab.page
    check(tab, f"arena-start-{size}")

    page.get_by_label("Your prompt").fill("Write a function and a table of rivers")
    page.get_by_role("button", name="Send to both").click()
    # Mid-stream: the raw text wraps inside its pane and the "generating" dots show.
    expect(page.locator(".answer.streaming").first).to_contain_text("xxxxxxxx")
    expect(page.locator(".typing").first).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    check(tab, f"arena-streaming-{size}")

    expect(page.locator("form.vote button").first).to_be_enabled()
    tab.settled()
    for pane in panes(page):
        code, table = pane.locator("pre"), pane.locator("table")
        expect(code).to_contain_text("def summarise")
        inside(code, pane)
        inside(table, pane)
        # The long line scrolls inside its block instead of being squeezed or cut.
        assert code.evaluate("el => el.scrollWidth > el.clientWidth")
        assert code.evaluate("el => getComputedStyle(el).overflowX") == "auto"
        assert table.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    check(tab, f"arena-answered-{size}")
    tab.screenshot(f"arena-pane-{size}", of=panes(page)[0])

    page.get_by_role("button", name="A is better").click()
    expect(page.locator("#controls .model-name")).to_have_count(2)
    check(tab, f"arena-reveal-{size}")
    tab.assert_clean()
