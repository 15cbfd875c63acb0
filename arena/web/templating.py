"""The pages' Jinja environment: gettext for `_()` and `{% trans %}`, and the language globals."""

from __future__ import annotations

from fastapi.templating import Jinja2Templates
from jinja2 import Environment

from arena.web import i18n
from arena.web.error_text import translate
from arena.web.labels import category_name


def templates(directory: str) -> Jinja2Templates:
    """The templates in `directory`, speaking the request's language."""
    found = Jinja2Templates(directory=directory)
    install(found.env)
    return found


def install(env: Environment) -> None:
    """Give a Jinja environment `_()`, `{% trans %}`, the language globals and `| translated`."""
    env.add_extension("jinja2.ext.i18n")
    # Whitespace inside {% trans %} blocks collapses, so a wrapped sentence is one msgid line.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals["language"] = i18n.current
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["short_languages"] = i18n.SHORT_NAMES
    # A service's English refusal, shown in the page's language.
    env.filters["translated"] = translate
    env.globals["category_name"] = category_name
