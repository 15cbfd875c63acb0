"""A mebibyte of text without a space, arriving in pieces, leaves the voter's tab usable."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import ARTIFACTS, Tab, settled
from tests.fake_openai import Behavior, FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

MIB = 1 << 20
# Far beyond any real wait for a mebibyte on loopback: it only proves the tab did not hang.
HANG_MS = 90_000


def answer_length(tab: Tab, side: str) -> int:
    return int(
        tab.page.evaluate(
            f"""() => {{ const el = [...document.querySelectorAll(
              '.answer-wrap[data-side="{side}"] .answer')].pop();
              return el ? el.textContent.length : 0; }}"""
        )
    )


def test_a_mebibyte_without_spaces_streams_and_can_be_stopped(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
) -> None:
    # The server's own cap on an answer (max_answer_chars) is raised: this is about the tab.
    with arena_server(max_answer_chars=4 * MIB) as arena:
        stream_and_stop(arena, fake, open_tab)


def stream_and_stop(arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]) -> None:
    """Stream a mebibyte to its end, then stop a second one midway."""
    fake.set_default(Behavior(reply="x" * MIB, chars_per_token=2048, token_delay=0.002))
    tab = open_tab(arena.url)
    page = tab.page
    page.get_by_label("Your prompt").fill("Say x forever")
    page.get_by_role("button", name="Send to both").click()
    votes = page.locator("form.vote button").first
    expect(votes).to_be_enabled(timeout=HANG_MS)
    for side in "ab":
        assert answer_length(tab, side) >= MIB
    tab.assert_no_horizontal_overflow()
    # The viewport only: a whole-page picture of a mebibyte of text is the slow part, not the tab.
    page.screenshot(path=str(ARTIFACTS / "long-output-done.png"), caret="initial")

    # Mid-stream, a click on Stop still gets through and ends the round.
    fake.set_default(Behavior(reply="y" * MIB, chars_per_token=2048, token_delay=0.01))
    page.goto(arena.url + "/")
    page.get_by_label("Your prompt").fill("Say y forever, slowly")
    page.get_by_role("button", name="Send to both").click()
    page.wait_for_function(
        """() => { const el = [...document.querySelectorAll('.answer.streaming')].pop();
                   return el && el.textContent.length > 100000; }""",
        timeout=HANG_MS,
    )
    settled(page)
    # The button moves down as the answers grow, so a keyboard press, not a pointer, aims at it.
    page.get_by_role("button", name="Stop").focus(timeout=HANG_MS)
    page.keyboard.press("Enter")
    expect(votes).to_be_enabled(timeout=HANG_MS)
    assert 0 < answer_length(tab, "a") < MIB
    tab.assert_no_horizontal_overflow()
    tab.assert_clean()
