"""The catalogues keep up with the code: every message translated, no English left outside `_()`.

When another change adds a page string, these tests name the file, the line and the string:
wrap it in `{{ _("…") }}` or `{% trans %}…{% endtrans %}`, run `bash scripts/i18n.sh`, and
translate it in arena/locale/zh_Hans/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

from arena.web.assets import WEB
from arena.web.i18n import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "arena" / "locale"
TEMPLATES = WEB / "templates"
HOW = (
    "wrap page strings in _() or {% trans %}, run `bash scripts/i18n.sh`, then translate "
    "arena/locale/zh_Hans/LC_MESSAGES/messages.po"
)


def extracted() -> tuple[dict[object, list[str]], set[str]]:
    """Every message the code and templates use (with where), and the files Babel read."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    where: dict[object, list[str]] = defaultdict(list)
    files: set[str] = set()

    def seen(filename: str, method: str, options: object) -> None:
        if method != "ignore":
            files.add(filename)

    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS, callback=seen
    ):
        where[message].append(f"{filename}:{lineno}")
    return where, files


#: Every offered language but English, whose msgids are the text.
TRANSLATED = [tag for tag in LANGUAGES if tag != DEFAULT]


def catalog_of(tag: str) -> Catalog:
    folder = tag.replace("-", "_")
    with (CATALOGUES / folder / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=folder)


def _show(message: object) -> str:
    return " | ".join(message) if isinstance(message, tuple) else str(message)


def test_every_template_is_extracted() -> None:
    """babel.cfg reads the templates the app renders (a moved folder must not go unnoticed)."""
    _where, files = extracted()
    templates = {p.relative_to(ROOT).as_posix() for p in TEMPLATES.glob("*.html")}
    assert templates, f"no templates in {TEMPLATES}"
    unread = sorted(templates - {Path(f).as_posix() for f in files})
    assert not unread, f"babel.cfg does not extract {unread}; fix its [jinja2: …] pattern"


@pytest.mark.parametrize("tag", TRANSLATED)
def test_every_message_is_translated(tag: str) -> None:
    where, _files = extracted()
    catalog = catalog_of(tag)
    missing = []
    for message, places in sorted(where.items(), key=lambda kv: kv[1][0]):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else None
        translated = (
            entry is not None
            and not entry.fuzzy
            and (all(strings) if isinstance(strings, tuple) else bool(strings))
        )
        if not translated:
            missing.append(f"  {places[0]}: {_show(message)!r}")
    assert not missing, (
        f"{len(missing)} message(s) without a {tag} translation ({HOW}):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("tag", TRANSLATED)
def test_translations_keep_their_placeholders(tag: str) -> None:
    """A translation has the same %(name)s and {0} fields as its English (else it crashes)."""
    catalog = catalog_of(tag)
    problems = [
        f"  {_show(message.id)!r}: {'; '.join(str(e) for e in errors)}"
        for message, errors in catalog.check()
    ]
    field = re.compile(r"%\([a-z_]+\)(?:\.\d+)?[sdf]|\{\d+\}")
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(set(field.findall(ids[-1])))
        for s in strings:
            if sorted(set(field.findall(s))) != expected:
                problems.append(f"  {ids[0]!r}: {s!r} has fields {field.findall(s)}")
    assert not problems, "translations whose fields differ from the English:\n" + "\n".join(
        problems
    )


# --- English left outside _() in the templates ------------------------------------------------

GETTEXT = {"_", "gettext", "ngettext"}
#: Attributes a person reads (or hears, from a screen reader).
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "hx-confirm", "data-label"}
#: Text that is not English prose: commands and code, whose words stay as they are.
NOT_PROSE = {"code", "pre", "script", "style", "kbd", "samp"}
#: Names that read the same in every language.
NAMES = {"Markdown", "OpenAI", "Qwen", "Tongyi", "Bradley", "Terry", "Arena", "htmx"}
HOLE = "\x00"  # where an expression or a tag of the template was


def _words(text: str) -> list[str]:
    """The English words of a text, once names, identifiers, URLs and acronyms are set aside."""
    text = re.sub(r"\S+://\S+", " ", text)  # URLs
    text = re.sub(r"\{[^}]*\}", " ", text)  # JSON examples
    text = re.sub(r"\S*[_/.@$\d]\S*", " ", text)  # identifiers, paths, numbers, e.g.
    text = re.sub(r"\b[A-Z]{2,}s?\b", " ", text)  # acronyms: CSV, JSON, UTC, URLs
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'’]+", text) if w not in NAMES]


class _Text(HTMLParser):
    """Collects the visible text and visible attributes of a template's HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in NOT_PROSE:
            self.skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in NOT_PROSE and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._check(data)

    def _check(self, text: str) -> None:
        line = self.getpos()[0]
        for piece in text.split(HOLE):
            if _words(piece):
                self.found.append((line, " ".join(piece.split())))


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of English a template shows outside `_()` and `{% trans %}`."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    tokens = [t for t in env.lex(source) if t[1] != "whitespace"]
    html: list[str] = []
    found: list[tuple[int, str]] = []
    in_trans = False
    for i, (lineno, kind, value) in enumerate(tokens):
        before = [t[1:] for t in tokens[max(0, i - 2) : i]]
        after = tokens[i + 1][1:] if i + 1 < len(tokens) else None
        if kind == "name" and before[-1:] == [("block_begin", "{%")]:
            in_trans = value == "trans" or (in_trans and value != "endtrans")
        if kind == "data":
            # Keep the line count, so the parser's lines are the template's.
            html.append(HOLE + "\n" * value.count("\n") if in_trans else value)
        else:
            html.append(HOLE + "\n" * value.count("\n"))
        if kind == "string" and not in_trans:
            translated = before[-2:] in ([("name", f), ("operator", "(")] for f in GETTEXT)
            is_key = after == ("operator", ":")  # a lookup key of a dict, not shown
            text = value.strip("\"'")
            if not translated and not is_key and " " in text.strip() and _words(text):
                found.append((lineno, text))
    parser = _Text()
    parser.feed("".join(html))
    parser.close()
    return sorted(found + parser.found)


def test_the_scan_finds_english() -> None:
    """The scan itself: it sees text, attributes and literals, and passes translated ones."""
    source = (
        '<p>Hello there</p><input placeholder="Type here">{{ "Send it" if x else _("Ok go") }}\n'
        '<b>{{ _("Fine") }}</b>{% trans %}Also fine{% endtrans %}<code>arena models add</code>\n'
        '<a title="{{ _(\'Good\') }}">CSV</a>{% set d = {"a key": _("shown")} %}'
    )
    assert [t for _line, t in untranslated(source)] == ["Hello there", "Send it", "Type here"]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_english_outside_gettext(template: str) -> None:
    found = untranslated((TEMPLATES / template).read_text(encoding="utf-8"))
    assert not found, f"untranslated text in web/templates/{template} ({HOW}):\n" + "\n".join(
        f"  line {line}: {text!r}" for line, text in found
    )
