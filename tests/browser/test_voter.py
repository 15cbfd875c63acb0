"""The voter in a real browser: streaming, voting, the reveal, follow-ups, stop, keyboard."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.browsing import Tab, settled
from tests.conftest import MODELS
from tests.fake_openai import Behavior, FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

ALPHA, BETA = MODELS.values()
SOME_TEXT = re.compile(r"\S")


def prose(words: int) -> str:
    """A reply long enough to stream for a while."""
    return " ".join(f"word{i}" for i in range(words)) + "."


def answer(page: Page, side: str) -> Locator:
    """The answer text of one side in the latest turn."""
    return page.locator(".turn").last.locator(f'.answer-wrap[data-side="{side}"] .answer')


def vote_buttons(page: Page) -> Locator:
    return page.locator("form.vote button")


def expect_all(buttons: Locator, enabled: bool) -> None:
    """All four vote buttons are enabled (and live: htmx has settled) or all disabled."""
    expect(buttons).to_have_count(4)
    for button in buttons.all():
        if enabled:
            expect(button).to_be_enabled()
        else:
            expect(button).to_be_disabled()
    if enabled:
        settled(buttons.page)


def sample_growth(page: Page, samples: int = 4, every: float = 0.3) -> list[tuple[int, int]]:
    """Lengths of both answers, sampled while they stream (the one place a sleep belongs)."""
    seen = []
    for _ in range(samples):
        seen.append((len(answer(page, "a").inner_text()), len(answer(page, "b").inner_text())))
        time.sleep(every)
    return seen


def start_battle(page: Page, prompt: str) -> None:
    page.get_by_label("Your prompt").fill(prompt)
    page.get_by_role("button", name="Send to both").click()


def test_voter_journey(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    # Alpha is quick, beta slow: voting must wait for the slower of the two.
    fake.set_behavior(ALPHA, Behavior(reply=prose(100), token_delay=0.03))
    fake.set_behavior(BETA, Behavior(reply=prose(160), token_delay=0.05))
    tab = open_tab(arena.url)
    page = tab.page
    start_battle(page, "Tell me about rivers")

    expect(page).to_have_url(re.compile(r"/battles/[0-9a-f]+$"))
    expect(page.locator(".turn .prompt-text")).to_have_text("Tell me about rivers")
    expect(answer(page, "a")).to_have_text(SOME_TEXT)
    expect(answer(page, "b")).to_have_text(SOME_TEXT)
    expect(page.locator(".typing").first).to_be_visible()
    expect_all(vote_buttons(page), enabled=False)

    seen = sample_growth(page)
    for side in (0, 1):
        lengths = [s[side] for s in seen]
        assert lengths == sorted(lengths) and lengths[-1] > lengths[0], seen

    # One side done, the other still streaming: no vote yet.
    expect(page.locator('.answer-wrap[data-state="done"]')).to_have_count(1)
    expect(page.locator(".answer.streaming")).to_have_count(1)
    expect_all(vote_buttons(page), enabled=False)
    expect(page.get_by_role("button", name="Stop")).to_be_visible()

    expect_all(vote_buttons(page), enabled=True)
    # The forms that came with the stream's end carry the CSRF token for a plain submit too.
    expect(page.locator("form.vote input[name=csrf_token]")).to_have_value(re.compile(r"\w{16}"))
    expect(page.locator(".typing")).to_have_count(0)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(answer(page, "a")).to_contain_text("word99")
    expect(page.locator(".answer.markdown")).to_have_count(2)
    # Still anonymous.
    expect(page.locator("#name-a")).to_have_text("Model A")
    expect(page.locator("#name-b")).to_have_text("Model B")

    # A follow-up question in the same battle: a second round, voting closed again while it streams.
    fake.set_default(Behavior(token_delay=0.03))
    fake.set_behavior(ALPHA, Behavior(reply="A lake: Baikal.", token_delay=0.03))
    fake.set_behavior(BETA, Behavior(reply="A lake: " + prose(80), token_delay=0.03))
    page.get_by_label("Follow-up question").fill("And a lake?")
    page.get_by_role("button", name="Send follow-up").click()
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator(".turn").last.locator(".prompt-text")).to_have_text("And a lake?")
    expect_all(vote_buttons(page), enabled=False)
    expect_all(vote_buttons(page), enabled=True)
    expect(answer(page, "a")).to_contain_text("A lake:")
    expect(answer(page, "b")).to_contain_text("A lake:")
    last_chat = fake.chat_requests[-1].messages or []
    assert [m["role"] for m in last_chat if m["role"] != "system"] == [
        "user",
        "assistant",
        "user",
    ]

    page.get_by_role("button", name="B is better").click()
    reveal = page.locator("#controls .reveal")
    expect(reveal).to_contain_text("Model A was")
    names = page.locator("#controls .model-name").all_inner_texts()
    assert sorted(names) == sorted(MODELS)
    expect(page.locator("#name-a")).to_have_text(names[0])
    expect(page.locator("#name-b")).to_have_text(names[1])
    expect(vote_buttons(page)).to_have_count(0)

    # A reload keeps both rounds and the names.
    page.reload()
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator("#name-a")).to_have_text(names[0])

    # A new round: a fresh, anonymous battle.
    page.get_by_role("link", name="New round").click()
    expect(page).to_have_url(arena.url + "/")
    start_battle(page, "A new question")
    expect(page.locator(".turn .prompt-text")).to_have_text("A new question")
    expect(page.locator("#name-a")).to_have_text("Model A")
    expect_all(vote_buttons(page), enabled=True)
    tab.assert_clean()


def test_stop_cancels_both_upstream_requests(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    fake.set_default(Behavior(reply=prose(400), token_delay=0.1))
    tab = open_tab(arena.url)
    page = tab.page
    start_battle(page, "Go on and on")
    expect(answer(page, "a")).to_have_text(SOME_TEXT)
    expect(answer(page, "b")).to_have_text(SOME_TEXT)
    fake.wait_for(lambda: fake.active_streams == 2)

    settled(page)
    page.get_by_role("button", name="Stop").click()
    fake.wait_for(lambda: fake.closed_early == 2)
    assert fake.completed_streams == 0
    # What came so far stays, and counts as a finished answer that can be voted on.
    expect(page.locator(".typing")).to_have_count(0)
    expect_all(vote_buttons(page), enabled=True)
    expect(answer(page, "a")).to_contain_text("word0")
    assert "word399" not in answer(page, "a").inner_text()
    tab.assert_clean()


def test_keyboard_only_journey(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    fake.set_default(Behavior(token_delay=0.02))
    tab = open_tab(arena.url)
    page = tab.page
    keys = page.keyboard

    # The prompt box has the focus from the start; typing goes straight in.
    prompt = page.get_by_label("Your prompt")
    expect(prompt).to_be_focused()
    keys.type("Which river is longest?")
    tab.tab_to(page.get_by_role("button", name="Send to both"))
    keys.press("Enter")

    expect(page.locator(".turn .prompt-text")).to_have_text("Which river is longest?")
    expect_all(vote_buttons(page), enabled=True)

    tab.tab_to(page.get_by_label("Follow-up question"))
    keys.type("And the shortest?")
    tab.tab_to(page.get_by_role("button", name="Send follow-up"))
    keys.press("Enter")
    expect(page.locator(".turn")).to_have_count(2)
    expect_all(vote_buttons(page), enabled=True)
    expect(answer(page, "b")).to_contain_text("And the shortest?")

    tab.tab_to(page.get_by_role("button", name="A is better"))
    keys.press("Enter")
    expect(page.locator("#controls .model-name")).to_have_count(2)

    # After the reveal the focus waits on the next step.
    new_round = page.get_by_role("link", name="New round")
    expect(new_round).to_be_focused()
    keys.press("Enter")
    expect(page).to_have_url(arena.url + "/")
    expect(page.get_by_label("Your prompt")).to_be_focused()
    tab.assert_clean()


HOSTILE = (
    "Hello <script>alert('script')</script> and <img src=x onerror=alert('img')> "
    '<svg onload=alert("svg")></svg> [click](javascript:alert("md")) '
    '<a href="javascript:alert(\'a\')">a</a> <iframe src="javascript:alert(1)"></iframe>\n\n'
    "```html\n<script>alert('in code')</script>\n```\n"
)


@pytest.mark.parametrize("token_delay", [0.0, 0.01])
def test_hostile_output_stays_inert(
    arena: ThreadedServer,
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
    token_delay: float,
) -> None:
    fake.set_default(Behavior(reply=HOSTILE, token_delay=token_delay))
    tab = open_tab(arena.url)
    page = tab.page
    start_battle(page, "<script>alert('prompt')</script>")
    expect(page.locator(".turn .prompt-text")).to_have_text("<script>alert('prompt')</script>")
    expect_all(vote_buttons(page), enabled=True)

    for side in ("a", "b"):
        text = answer(page, side)
        expect(text).to_contain_text("<script>alert('script')</script>")
        expect(text).to_contain_text("<img src=x onerror=alert('img')>")
        for tag in ("script", "img", "svg", "iframe"):
            expect(text.locator(tag)).to_have_count(0)
        expect(text.locator("[onerror], [onload]")).to_have_count(0)
    links = page.locator(".answer a")
    for href in links.evaluate_all("els => els.map(a => a.getAttribute('href') || '')"):
        assert not href.replace(" ", "").lower().startswith("javascript:"), href
    expect(page.locator("main script")).to_have_count(0)

    # Through the vote and a reload (the whole page rendered by the server).
    page.get_by_role("button", name="Tie").click()
    expect(page.locator("#controls .model-name")).to_have_count(2)
    page.reload()
    expect(answer(page, "a")).to_contain_text("<script>alert('script')</script>")
    expect(page.locator("main script, main img, main iframe, main svg")).to_have_count(0)
    tab.assert_clean()
