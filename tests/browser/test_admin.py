"""The admin in a real browser: log in, add a model with the form, test it, disable it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Endpoint, utcnow
from tests.browser.browsing import DESKTOP, PHONE, Tab, play
from tests.conftest import MODELS
from tests.fake_openai import Behavior, FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

TOKEN = "test-admin-token-0123"
GAMMA = "upstream-gamma-1b"


def set_enabled(admin: Page, name: str, enabled: bool) -> None:
    """Flip a model from the list's row."""
    row = admin.locator("tbody tr", has=admin.get_by_role("link", name=name, exact=True))
    row.get_by_role("button", name="Enable" if enabled else "Disable").click()
    expect(row.locator(".badge").first).to_have_text("enabled" if enabled else "disabled")


def test_admin_journey(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    fake.add_model(GAMMA)
    tab = open_tab(arena.url + "/admin")
    admin = tab.page

    expect(admin).to_have_url(re.compile(r"/admin/login"))
    admin.get_by_label("Admin token").fill(TOKEN)
    admin.get_by_role("button", name="Log in").click()
    expect(admin.get_by_role("heading", name="Models")).to_be_visible()
    for name in MODELS:
        expect(admin.get_by_role("link", name=name, exact=True)).to_be_visible()
    tab.assert_no_horizontal_overflow()
    tab.screenshot("admin-models-desktop")

    admin.get_by_role("link", name="Add a model").click()
    admin.get_by_role("textbox", name=re.compile(r"^Name\b")).fill("gamma")
    admin.get_by_role("textbox", name=re.compile(r"^Base URL\b")).fill(fake.base_url)
    admin.get_by_role("textbox", name=re.compile(r"^Model id\b")).fill(GAMMA)
    admin.get_by_role("button", name="Add model").click()
    expect(admin).to_have_url(re.compile(r"/admin/models/gamma$"))
    expect(admin.get_by_role("heading", name="gamma", exact=True)).to_be_visible()

    admin.get_by_role("button", name="Test gamma").click()
    expect(admin.locator("#test-result")).to_contain_text("gamma answered")
    assert fake.requests_for(GAMMA), "the test never reached the upstream"
    tab.assert_no_horizontal_overflow()
    tab.screenshot("admin-model-desktop")
    admin.set_viewport_size(PHONE)
    tab.assert_no_horizontal_overflow()
    tab.screenshot("admin-model-phone")

    # With beta off, every battle is alpha against the newcomer.
    voter = open_tab(arena.url)
    admin.goto(arena.url + "/admin")
    tab.screenshot("admin-models-phone")
    set_enabled(admin, "beta", enabled=False)
    assert set(play(voter.page, "Hello")) == {"alpha", "gamma"}

    # Disabled, gamma is drawn no more.
    set_enabled(admin, "beta", enabled=True)
    set_enabled(admin, "gamma", enabled=False)
    asked = len(fake.requests_for(GAMMA))
    for prompt in ("One", "Two", "Three"):
        assert set(play(voter.page, prompt)) == set(MODELS)
    assert len(fake.requests_for(GAMMA)) == asked

    tab.assert_clean()
    voter.assert_clean()


def log_in(tab: Tab) -> Page:
    """Log the tab's browser into the admin; the models list."""
    admin = tab.page
    admin.get_by_label("Admin token").fill(TOKEN)
    admin.get_by_role("button", name="Log in").click()
    expect(admin.get_by_role("heading", name="Models")).to_be_visible()
    return admin


def model_row(admin: Page, name: str) -> Locator:
    return admin.locator("tbody tr", has=admin.get_by_role("link", name=name, exact=True))


def test_row_actions_answer_in_their_row(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(arena.url + "/admin")
    admin = log_in(tab)
    alpha, beta = model_row(admin, "alpha"), model_row(admin, "beta")

    alpha.get_by_role("button", name="Test").click()
    expect(alpha).to_contain_text("alpha answered")
    expect(alpha).to_contain_text("Echo: ")
    expect(beta).not_to_contain_text("answered")

    # A weight the server refuses: its reason beside that weight field, the row still there.
    weight = beta.get_by_label("Weight of beta")
    weight.fill("")
    beta.get_by_role("button", name="Set").click()
    error = beta.locator(".field-error")
    expect(error).to_contain_text("weight")
    expect(weight).to_have_attribute("aria-invalid", "true")
    box, field = error.bounding_box(), weight.bounding_box()
    assert box and field and abs(box["y"] - (field["y"] + field["height"])) < 60
    expect(admin.locator("#flash")).to_be_empty()
    tab.screenshot("admin-row-error-desktop")

    # Then a good one: saved, the error gone.
    beta.get_by_label("Weight of beta").fill("2")
    beta.get_by_role("button", name="Set").click()
    expect(beta.locator(".field-error")).to_have_count(0)
    expect(beta.get_by_label("Weight of beta")).to_have_value("2.0")


LONG_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


def check_models_layout(tab: Tab, width: int) -> None:
    """Every row's actions inside the window, unscrolled; no model's URL over three lines."""
    admin = tab.page
    tab.assert_no_horizontal_overflow()
    wrap = admin.locator("#models-table").bounding_box()
    assert wrap
    # Not scrolled into view: a cell past the table's scroll box is cut where the admin looks.
    right = min(width, wrap["x"] + wrap["width"])
    for cell in admin.locator("td.actions").all():
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= right + 1, box
        for button in cell.get_by_role("button").all():
            b = button.bounding_box()
            assert b and b["x"] + b["width"] <= right + 1, f"{button.inner_text()} is cut: {b}"
    for where in admin.locator(".where").all():
        # The model id's line, then the URL's: at most three lines for the URL.
        lines = where.evaluate(
            "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
        )
        assert lines <= 4.05, f"{where.inner_text()!r} takes {lines:.1f} lines"


def test_models_layout_unpause_and_test_before_saving(
    arena: ThreadedServer,
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
    database_url: str,
) -> None:
    with httpx.Client(base_url=arena.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        for name in ("qwen-plus-latest-long-name", "deepseek-r1"):
            body = {"name": name, "base_url": LONG_URL, "model": name, "enabled": False}
            assert api.post("/api/admin/models", json=body).status_code == 201
    # One model paused by the breaker, one with failures but not paused.
    engine = make_engine(database_url)
    with Session(engine) as session:
        for e in session.exec(select(Endpoint)):
            if e.name == "deepseek-r1":
                e.paused_until = utcnow() + timedelta(minutes=5)
                e.consecutive_failures, e.last_error = 3, "HTTP 503: upstream overloaded " * 8
                e.enabled = True
            if e.name == "beta":
                e.consecutive_failures = 1
            session.add(e)
        session.commit()
    engine.dispose()

    tab = open_tab(arena.url + "/admin")
    admin = log_in(tab)
    expect(model_row(admin, "deepseek-r1").get_by_role("button", name="Unpause")).to_be_visible()
    for name in ("alpha", "beta", "qwen-plus-latest-long-name"):
        expect(model_row(admin, name).get_by_role("button", name="Unpause")).to_have_count(0)
    expect(model_row(admin, "beta").get_by_role("button", name="Reset failures")).to_be_visible()

    check_models_layout(tab, DESKTOP["width"])
    tab.screenshot("admin-models-1280")
    admin.set_viewport_size(PHONE)
    check_models_layout(tab, PHONE["width"])
    tab.screenshot("admin-models-375")
    admin.set_viewport_size(DESKTOP)

    # Test before saving: the answer beside the form, nothing stored.
    admin.goto(arena.url + "/admin/models/new")
    admin.get_by_role("textbox", name=re.compile(r"^Name\b")).fill("draft-gamma")
    admin.get_by_role("textbox", name=re.compile(r"^Base URL\b")).fill(fake.base_url)
    admin.get_by_role("textbox", name=re.compile(r"^Model id\b")).fill(MODELS["alpha"])
    admin.get_by_role("button", name="Test before saving").click()
    result = admin.locator("#draft-result")
    expect(result).to_contain_text("draft-gamma answered")
    expect(result).to_contain_text("Echo: ")
    tab.screenshot("admin-new-draft-1280")
    admin.goto(arena.url + "/admin")
    expect(admin.get_by_role("link", name="draft-gamma")).to_have_count(0)

    # On the edit form: the edited values are tested, the saved ones stay.
    admin.goto(arena.url + "/admin/models/alpha")
    admin.get_by_role("textbox", name=re.compile(r"^Model id\b")).fill("no-such-model")
    fake.set_behavior("no-such-model", Behavior(status=404))
    admin.get_by_role("button", name="Test before saving").click()
    expect(admin.locator("#draft-result")).to_contain_text("Unknown model id 'no-such-model'")
    admin.set_viewport_size(PHONE)
    tab.assert_no_horizontal_overflow()
    tab.screenshot("admin-edit-draft-375")
    tab.assert_clean()


def test_excluding_without_a_reason_says_so_beside_the_field(
    arena: ThreadedServer, fake: FakeOpenAI, open_tab: Callable[..., Tab]
) -> None:
    voter = open_tab(arena.url)
    for prompt in ("One", "Two", "Three"):
        play(voter.page, prompt)
    tab = open_tab(arena.url + "/admin")
    admin = log_in(tab)
    admin.goto(arena.url + "/admin/votes")
    vote = admin.locator("article.admin-vote").last
    vote.scroll_into_view_if_needed()
    reason = vote.get_by_label("Reason")
    reason.fill("   ")  # not empty for the browser; nothing for the server
    vote.get_by_role("button", name="Exclude").click()
    error = vote.locator(".field-error")
    expect(error).to_contain_text("say why the vote is excluded")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#flash")).to_be_empty()
    box, field = error.bounding_box(), reason.bounding_box()
    assert box and field and 0 <= box["y"] - field["y"] < 120
    viewport = admin.viewport_size
    assert viewport and 0 <= box["y"] <= viewport["height"], "the message is out of sight"
    tab.screenshot("admin-vote-reason-1280")
    reason.fill("spam")
    vote.get_by_role("button", name="Exclude").click()
    expect(vote).to_have_attribute("data-excluded", "true")
