"""A vision battle in a real browser: images by the file chooser and by paste, thumbnails with
a remove button, the stream, the vote, the images in the conversation and in the reveal, and
the same on a 375 px phone."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.browsing import DESKTOP, PHONE, Tab, settled
from tests.fake_openai import FakeOpenAI
from tests.image_samples import jpeg_with_gps, png_bytes
from tests.servers import ThreadedServer
from tests.test_vision_api import VISION, image_parts, models_file

pytestmark = pytest.mark.browser


@pytest.fixture
def vision_arena(arena_server: Callable[..., object], fake: FakeOpenAI, tmp_path: Path) -> object:
    with arena_server(models=models_file(tmp_path / "m.toml", fake.base_url)) as srv:  # type: ignore[attr-defined]
        yield srv


def paste_image(page: Page, png: bytes) -> None:
    """Paste an image into the prompt box, as a screenshot pasted from the clipboard arrives."""
    page.get_by_label("Your prompt").evaluate(
        """(box, b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "pasted.png", {type: "image/png"}));
            box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                          cancelable: true}));
        }""",
        base64.b64encode(png).decode(),
    )


def choose_files(
    page: Page, tmp_path: Path, files: dict[str, bytes], add: str = "Add images"
) -> None:
    """Choose these files in the picker opened by the button labelled `add`."""
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    with page.expect_file_chooser() as chooser:
        page.get_by_text(add).click()
    chooser.value.set_files(paths)


def journey(tab: Tab, fake: FakeOpenAI, tmp_path: Path, shot: str) -> None:
    page = tab.page
    thumbs = page.locator(".thumbs .thumb img")
    choose_files(page, tmp_path, {"photo.jpg": jpeg_with_gps((60, 40)), "x.png": png_bytes()})
    expect(thumbs).to_have_count(2)
    # Remove one, then paste another: two images go.
    page.get_by_role("button", name="Remove image 2").click()
    expect(thumbs).to_have_count(1)
    paste_image(page, png_bytes((30, 30), "green"))
    expect(thumbs).to_have_count(2)
    for img in thumbs.all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    page.get_by_label("Your prompt").fill("What do you see in these two pictures?")
    tab.screenshot(f"{shot}-attached")
    page.get_by_role("button", name="Send to both").click()

    shown = page.locator(".turn .prompt-images img")
    expect(shown).to_have_count(2)
    expect(page.locator("form.vote button").first).to_be_enabled()
    settled(page)
    for img in shown.all():
        img.scroll_into_view_if_needed()
        expect(img).to_be_visible()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
    for side in "ab":
        answer = page.locator(f'.answer-wrap[data-side="{side}"] .answer')
        expect(answer).to_contain_text("Echo: What do you see")
    asked = fake.chat_requests
    assert {r.model for r in asked} == set(VISION.values())
    for req in asked:
        urls = image_parts((req.messages or [])[0])
        assert len(urls) == 2 and all(u.startswith("data:image/") for u in urls)
        assert b"SpyCam" not in base64.b64decode(urls[0].split(",", 1)[1])

    page.get_by_role("button", name="Tie").click()
    reveal = page.locator(".reveal-images img")
    expect(reveal).to_have_count(2)
    expect(page.locator("#controls .reveal")).to_contain_text("Model A was")
    names = {page.locator("#name-a").inner_text(), page.locator("#name-b").inner_text()}
    assert names == set(VISION)
    tab.screenshot(shot)
    assert tab.console.errors == [] and tab.csp_violations() == []


def test_vision_battle_in_the_browser(
    vision_arena: ThreadedServer,
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
    tmp_path: Path,
) -> None:
    journey(open_tab(vision_arena.url), fake, tmp_path, "vision-desktop")


def test_vision_battle_on_a_phone(
    vision_arena: ThreadedServer,
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
    tmp_path: Path,
) -> None:
    tab = open_tab(vision_arena.url, viewport=PHONE)
    journey(tab, fake, tmp_path, "vision-375")
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways ({width}px)"


@pytest.mark.parametrize(
    ("locale", "add", "not_image", "too_many", "remove"),
    [
        (
            "en-US",
            "Add images",
            "notes.txt is not a PNG, JPEG, WebP or GIF image.",
            "A prompt may carry at most 4 images.",
            "Remove image 1",
        ),
        (
            "zh-CN",
            "添加图片",
            "notes.txt 不是 PNG、JPEG、WebP 或 GIF 图片。",
            "每个提示词最多可附带 4 张图片。",
            "移除图片 1",
        ),
    ],
)
def test_image_messages_speak_the_page_language(
    vision_arena: ThreadedServer,
    browser: Browser,
    tmp_path: Path,
    locale: str,
    add: str,
    not_image: str,
    too_many: str,
    remove: str,
) -> None:
    """What the picker says about a file it refuses, and the thumbnails' labels, come in the
    page's language (the script takes its words from the page)."""
    tab = Tab.open(browser.new_context(viewport=DESKTOP, locale=locale), vision_arena.url)
    page = tab.page
    error = page.locator("[data-attach-error]").first
    choose_files(page, tmp_path, {"notes.txt": b"plain words"}, add)
    expect(error).to_have_text(not_image)
    choose_files(page, tmp_path, {f"p{i}.png": png_bytes((10 + i, 10)) for i in range(5)}, add)
    expect(page.locator(".thumbs .thumb img")).to_have_count(4)
    expect(error).to_have_text(too_many)
    tab.screenshot(f"attach-messages-{locale}", of=page.locator("[data-attach]").first)
    page.get_by_role("button", name=remove, exact=True).click()
    expect(page.locator(".thumbs .thumb img")).to_have_count(3)
    assert tab.console.errors == [] and tab.csp_violations() == []
