"""The pages' languages: gettext catalogues, the language of this request, the template hooks.

The catalogues are the `.po` files in `arena/locale/` (the only files translators edit). They are
read and compiled in memory with Babel the first time a language is used, so there is no build
step and no compiled `.mo` file that can fall out of step with its `.po`.

The language of a request lives in a context variable set by `LocaleMiddleware`: the templates'
`_()` (installed by `web/templating.py`), the Python messages and the SSE fragments rendered later
in the same request all see it, without passing it through every function.
"""

from __future__ import annotations

import gettext as gnu
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from http.cookies import SimpleCookie
from importlib import resources
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.types import ASGIApp, Receive, Scope, Send

#: The languages offered: the tag used in URLs, cookies and `<html lang>` → its own name.
LANGUAGES: dict[str, str] = {"en": "English", "zh-Hans": "简体中文"}
#: The same, short, for a phone's top bar.
SHORT_NAMES: dict[str, str] = {"en": "EN", "zh-Hans": "中文"}
DEFAULT = "en"
COOKIE = "arena_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

_current: ContextVar[str] = ContextVar("arena_language", default=DEFAULT)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is translated on display)."""
    return message


@dataclass(frozen=True)
class Loaded:
    """One language: its gettext lookups and the Babel catalogue they were compiled from."""

    translations: gnu.NullTranslations
    catalog: Catalog | None


@cache
def load(tag: str) -> Loaded:
    """A language's catalogue, compiled in memory on first use (English needs none)."""
    folder = tag.replace("-", "_")  # gettext's folder name: zh-Hans → zh_Hans
    po = resources.files("arena") / "locale" / folder / "LC_MESSAGES" / "messages.po"
    if tag not in LANGUAGES or not po.is_file():
        return Loaded(gnu.NullTranslations(), None)
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=folder)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as gettext's own msgfmt does
    buffer.seek(0)
    return Loaded(gnu.GNUTranslations(buffer), catalog)


def current() -> str:
    """The language tag of this request (`en` outside of one)."""
    return _current.get()


@contextmanager
def speaking(tag: str) -> Iterator[None]:
    """Within the block, the current language is `tag` (an unknown tag: the default)."""
    token = _current.set(tag if tag in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """`message` in the current language."""
    return load(current()).translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form in the current language, as `n` asks."""
    return load(current()).translations.ngettext(singular, plural, n)


_ = gettext


def match_language(tag: str) -> str | None:
    """The offered language a browser's language tag means, if any (`zh-CN` → `zh-Hans`)."""
    # By the language alone: every Chinese variant gets the one Chinese we have (Simplified
    # reads better to a zh-TW reader than English does), every English the one English.
    wanted = tag.strip().lower().replace("_", "-").split("-")[0]
    for offered in LANGUAGES:
        if offered.lower().split("-")[0] == wanted:
            return offered
    return None


def negotiate(accept_language: str | None) -> str:
    """The best offered language for an `Accept-Language` header, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _sep, params = item.partition(";")
        q = 1.0
        found = re.search(r"q\s*=\s*([^\s;]*)", params)
        if found:
            try:
                q = float(found.group(1))
            except ValueError:
                continue
        if q > 0 and tag.strip():
            ranked.append((-q, index, tag.strip()))
    for _q, _i, tag in sorted(ranked):
        if tag == "*":
            return DEFAULT
        chosen = match_language(tag)
        if chosen:
            return chosen
    return DEFAULT


def request_language(headers: list[tuple[bytes, bytes]]) -> str:
    """The language a request asks for: the switch's cookie first, then `Accept-Language`."""
    accept = None
    for key, value in headers:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                continue
            if COOKIE in jar and jar[COOKIE].value in LANGUAGES:
                return jar[COOKIE].value
        elif key == b"accept-language":
            accept = value.decode("latin-1")
    return negotiate(accept)


class LocaleMiddleware:
    """Sets the request's language for everything that runs while it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tag = request_language(scope["headers"])
        scope.setdefault("state", {})["language"] = tag
        with speaking(tag):
            await self.app(scope, receive, send)
