"""The admin in a real browser: log in, add a model with the form, test it, disable it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.browsing import PHONE, Tab, play
from tests.conftest import MODELS
from tests.fake_openai import FakeOpenAI
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
