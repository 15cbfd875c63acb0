"""Chat habits: Enter sends, Copy copies, the reveal recalls the vote, a slow start is told."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Tab, settled
from tests.fake_openai import Behavior, FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

REPLY = "# Rivers\n\nThe **Nile** is long: <b>6650 km</b>."


def test_enter_sends_copy_copies_and_the_reveal_recalls_the_vote(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    fake.set_default(Behavior(reply=REPLY, token_delay=0.01))
    tab = open_tab(arena.url)
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=arena.url)
    prompt = page.get_by_label("Your prompt")
    # Shift+Enter makes a new line; Enter sends.
    prompt.press_sequentially("Which river")
    prompt.press("Shift+Enter")
    prompt.press_sequentially("is longest?")
    expect(prompt).to_have_value("Which river\nis longest?")
    prompt.press("Enter")
    expect(page).to_have_url(re.compile(r"/battles/[0-9a-f]+$"))
    expect(page.locator(".turn .prompt-text")).to_have_text("Which river\nis longest?")
    expect(page.locator("form.vote button").first).to_be_enabled()
    settled(page)
    assert len(fake.chat_requests) == 2  # one send, to both models

    copy = page.get_by_role("button", name="Copy the answer of Model A")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == REPLY

    # The follow-up box sends on Enter too.
    followup = page.get_by_label("Follow-up question")
    followup.fill("And the shortest?")
    followup.press("Enter")
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator("form.vote button").first).to_be_enabled()
    settled(page)

    page.get_by_role("button", name="B is better").click()
    expect(page.locator("#controls .your-vote")).to_have_text("You voted: B is better")
    page.reload()
    expect(page.locator("#controls .your-vote")).to_have_text("You voted: B is better")
    tab.assert_clean()


def test_a_model_that_has_not_started_is_said_so(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    fake.set_default(Behavior(reply="Finally.", first_token_delay=8))
    tab = open_tab(arena.url)
    page = tab.page
    page.get_by_label("Your prompt").fill("Anyone there?")
    page.get_by_role("button", name="Send to both").click()
    notice = page.locator(".slow-start").first
    expect(page.locator(".answer.streaming")).to_have_count(2)
    expect(notice).to_be_hidden()
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("has not started answering yet")
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_have_css("font-weight", "600")
    settled(page)
    stop.click()
    expect(page.locator("form.vote button").first).to_be_enabled()
    expect(page.locator(".slow-start")).to_have_count(0)
    tab.assert_clean()
