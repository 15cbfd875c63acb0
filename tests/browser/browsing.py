"""A browser tab on the arena and what it saw: console errors, dialogs, CSP reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    Response,
    ViewportSize,
    expect,
)

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
# Generous: a slow CI machine must not fail a test that only waits for the page to catch up.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)

# Runs before any page script: records CSP violations so a test can tell "blocked" from "never ran".
RECORD_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = e.sourceFile ? ` at ${e.sourceFile}:${e.lineNumber}` : "";
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI || "inline"} "${e.sample}"${where}`);
});
"""


@dataclass
class Console:
    """What the page said: console errors, page errors and dialogs (all must stay empty)."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def on_response(self, response: Response) -> None:
        # Chromium logs "Failed to load resource" without the address; keep it for the report.
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@dataclass
class Tab:
    """A page in its own browser context (its own cookies), listened to from the start."""

    page: Page
    console: Console

    @classmethod
    def open(cls, context: BrowserContext, url: str) -> Tab:
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(RECORD_CSP)
        page = context.new_page()
        console = Console()
        page.on("console", console.on_console)
        page.on("response", console.on_response)
        page.on("pageerror", lambda exc: console.errors.append(f"pageerror: {exc}"))
        page.on("dialog", console.on_dialog)
        page.goto(url)
        return cls(page, console)

    def csp_violations(self) -> list[str]:
        return list(self.page.evaluate("window.__csp || []"))

    def assert_clean(self) -> None:
        """No console error, no dialog, nothing the CSP had to block."""
        assert not self.console.dialogs, f"dialogs opened: {self.console.dialogs}"
        violations = self.csp_violations()
        assert not violations, f"the CSP blocked: {violations}"
        errors, failed = self.console.errors, self.console.failed
        assert not errors, f"console errors: {errors} (failed requests: {failed})"

    def assert_no_horizontal_overflow(self) -> None:
        width = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"page is {width[0]}px wide in a {width[1]}px window"

    def screenshot(self, name: str, of: Locator | None = None) -> Path:
        """tests/artifacts/<name>.png: the whole page, or one element of it."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # caret="initial": hiding the caret leaves style="" on inputs, which htmx later copies
        # in a swap and the CSP then (rightly) blocks: a violation the test itself caused.
        if of is None:
            self.page.screenshot(path=str(path), full_page=True, caret="initial")
        else:
            of.screenshot(path=str(path), caret="initial")
        return path

    def settled(self) -> None:
        settled(self.page)

    def has_focus(self, target: Locator) -> bool:
        return bool(target.evaluate("el => el === document.activeElement"))

    def tab_to(self, target: Locator, limit: int = 40) -> None:
        """Press Tab until `target` has the focus, as a keyboard user would."""
        for _ in range(limit):
            if self.has_focus(target):
                return
            self.page.keyboard.press("Tab")
        active = self.page.evaluate("document.activeElement && document.activeElement.outerHTML")
        raise AssertionError(f"{limit} Tabs never reached the target; focus is on {active}")


def settled(page: Page) -> None:
    """Wait until htmx is idle and has processed what it swapped in.

    htmx wires up swapped-in hx-* attributes when the swap settles (20 ms later), removing
    `htmx-added` as it does; a click before that submits the form as a plain POST instead.
    """
    expect(page.locator(".htmx-request, .htmx-added")).to_have_count(0)


def play(page: Page, prompt: str, vote: str = "Tie") -> list[str]:
    """One whole battle from the start page to the reveal; the names of models A and B."""
    page.goto(re.sub(r"(https?://[^/]+).*", r"\1/", page.url))
    page.get_by_label("Your prompt").fill(prompt)
    page.get_by_role("button", name="Send to both").click()
    expect(page.get_by_role("button", name=vote)).to_be_enabled()
    settled(page)
    page.get_by_role("button", name=vote).click()
    names = page.locator("#controls .model-name")
    expect(names).to_have_count(2)
    return names.all_inner_texts()
