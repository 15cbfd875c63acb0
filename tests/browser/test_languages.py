"""The Chinese pages in a real browser: a zh-CN Chromium gets them, the switch turns them English.

Screenshots (desktop and 375 px) go to the test's tmp folder, for a human to look at CJK text
in the layout; the asserts catch what a human would (sideways scrolling, console errors).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.browsing import DESKTOP, PHONE, Tab, settled
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

TOKEN = "test-admin-token-0123"
SIZES: dict[str, ViewportSize] = {"desktop": DESKTOP, "phone": PHONE}


def shoot(tab: Tab, folder: Path, name: str) -> None:
    """The page at desktop and phone width: a screenshot of each, and no sideways scrolling."""
    for size, viewport in SIZES.items():
        tab.page.set_viewport_size(viewport)
        path = folder / f"{name}-{size}.png"
        tab.page.screenshot(path=str(path), full_page=True, caret="initial")
        tab.assert_no_horizontal_overflow()
        # The top bar (emblem, four pages, the language switch) is one row, even on a phone.
        tops = [
            b["y"] + b["height"] / 2
            for link in tab.page.locator("header.top a:visible").all()
            if (b := link.bounding_box())
        ]
        assert len(tops) >= 6 and max(tops) - min(tops) < 4, f"{name} {size}: top bar wraps"
    tab.page.set_viewport_size(DESKTOP)


def chinese_tab(browser: Browser, url: str) -> Tab:
    """A tab of a browser set to Simplified Chinese (it sends Accept-Language: zh-CN)."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    return Tab.open(context, url)


def play_in_chinese(page: Page, prompt: str) -> list[str]:
    page.get_by_label("你的提示词").fill(prompt)
    page.get_by_role("button", name="发送给两个模型").click()
    expect(page.get_by_role("button", name="平局")).to_be_enabled()
    settled(page)
    page.get_by_role("button", name="平局").click()
    names = page.locator("#controls .model-name")
    expect(names).to_have_count(2)
    return names.all_inner_texts()


def test_chinese_pages_and_the_switch(
    arena: ThreadedServer, browser: Browser, tmp_path: Path
) -> None:
    tab = chinese_tab(browser, arena.url)
    page = tab.page
    try:
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        expect(page.get_by_role("heading", name="哪个回答更好？")).to_be_visible()
        expect(page.get_by_role("link", name="排行榜")).to_be_visible()
        shoot(tab, tmp_path, "voter-start")

        # A whole battle in Chinese: the answers stream in, the vote, the reveal.
        play_in_chinese(page, "用一句话介绍长江，并说明它流经哪些省份和直辖市。" * 3)
        expect(page.locator(".your-vote")).to_have_text("你的投票：平局")
        expect(page.get_by_role("link", name="新一轮")).to_be_visible()
        expect(page.get_by_role("heading", name="模型 A")).to_have_count(1)
        shoot(tab, tmp_path, "voter-reveal")

        page.get_by_role("link", name="排行榜").click()
        expect(page.get_by_role("heading", name="排行榜", exact=True)).to_be_visible()
        expect(page.get_by_role("columnheader", name="排名 ▲")).to_be_visible()
        expect(page.locator("figcaption").first).to_have_text("评分及 95% 置信区间")
        shoot(tab, tmp_path, "leaderboard")

        page.get_by_role("link", name="管理", exact=True).click()
        expect(page).to_have_url(re.compile(r"/admin/login"))
        expect(page.get_by_role("heading", name="管理员登录")).to_be_visible()
        shoot(tab, tmp_path, "admin-login")
        page.get_by_label("管理员令牌").fill(TOKEN)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="模型", exact=True)).to_be_visible()
        expect(page.get_by_role("columnheader", name="熔断器")).to_be_visible()
        shoot(tab, tmp_path, "admin-models")

        # The switch: a plain link, back to the same page, now in English, and it sticks.
        page.get_by_role("navigation", name="语言").get_by_role("link", name="English").click()
        expect(page).to_have_url(re.compile(r"/admin$"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible()
        page.get_by_role("link", name="Battle", exact=True).click()
        expect(page.get_by_role("heading", name="Which answer is better?")).to_be_visible()
        shoot(tab, tmp_path, "voter-start-en")
        link = page.get_by_role("navigation", name="Language").get_by_role("link", name="简体中文")
        expect(link).to_have_attribute("lang", "zh-Hans")
        link.click()
        expect(page.get_by_role("heading", name="哪个回答更好？")).to_be_visible()
        tab.assert_clean()
    finally:
        page.context.close()
