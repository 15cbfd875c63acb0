"""Model output is untrusted: markdown rendered with raw HTML escaped and unsafe links dropped."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

SAFE_SCHEMES = ("http://", "https://", "mailto:", "#", "/")


def _make() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # Images would make the voter's browser fetch arbitrary hosts; show them as links instead.
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def render_link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        tokens[idx].attrSet("target", "_blank")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", render_link_open)
    return md


def _safe_link(url: str) -> bool:
    """Only plain web, mail and relative links survive; javascript:, data: and the like do not."""
    u = "".join(ch for ch in url.strip().lower() if ch.isprintable() and not ch.isspace())
    return u.startswith(SAFE_SCHEMES) or (":" not in u.split("/", 1)[0])


_MD = _make()


def render_markdown(text: str) -> Markup:
    """Safe HTML for a model's markdown answer (escaped text if the parser ever fails)."""
    try:
        return Markup(_MD.render(text))
    except Exception:  # a parser bug must not cost the voter the answer
        return Markup("<p>") + escape(text) + Markup("</p>")


def render_plain(text: str) -> Markup:
    """Escaped text for a streaming answer (rendered as markdown once complete)."""
    return escape(text)
