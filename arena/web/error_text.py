"""The services' refusals in the page's language.

The services raise `BattleError` (and its kin) with an English message, which the JSON API keeps,
and describe failed answers with the `…_MESSAGES` tables. The pages translate these on display.
So that no service has to know about languages, the messages are collected from the source by
`extract`, a Babel extractor (see `babel.cfg`): a literal message (or a value of a table whose
name ends in `MESSAGES`) becomes a msgid as it is, and an f-string becomes a pattern whose `{0}`,
`{1}`, … stand for its fields (`"A battle has at most {0} turns; please vote."`). `translate`
looks a message up exactly, then against those patterns.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from io import BytesIO
from typing import IO, Any

from babel.messages.extract import extract_python

from arena.web.i18n import N_, current, gettext, load

#: The calls whose message argument is a refusal shown to people: name → the argument's position.
ERROR_CALLS = {"BattleError": 1, "AdminError": 1, "HTTPException": 1, "RateLimited": 0}
PLACEHOLDER = re.compile(r"\{(\d+)\}")

# Words the services put into their messages' fields.
FIELD_WORDS = (N_("battles"), N_("votes"), N_("you"), N_("your network"))
# Messages a service assembles from pieces, which no extractor can read whole: the notices of
# `battles/vote.py` at the reveal (keep them in step with it; a change there shows English).
ASSEMBLED = (
    N_("{0} revealed its identity in its answer, so this vote is recorded but still counts."),
    N_(
        "{0} revealed its identity in its answer, so this vote is recorded but does not count "
        "on the leaderboard."
    ),
    N_(
        "Thank you! You have reached today's limit of counted votes, so this one is recorded "
        "but does not count on the leaderboard."
    ),
)


def _message(node: ast.expr) -> str | None:
    """A literal's text, or an f-string as a pattern with numbered fields."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out, n = [], 0
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
            else:
                out.append(f"{{{n}}}")
                n += 1
        return "".join(out)
    return None


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _messages_table(node: ast.AST) -> list[ast.expr]:
    """The values of a `SOMETHING_MESSAGES = {...}` table, or the default of its `.get`."""
    if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id.endswith("MESSAGES") for t in targets):
            return list(node.value.values)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id.endswith("MESSAGES")
        and len(node.args) == 2
    ):
        return [node.args[1]]
    return []


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Any]:
    """Babel extractor: Babel's own `_()` / `N_()` / `ngettext()` calls, and the error messages."""
    source = fileobj.read()
    yield from extract_python(BytesIO(source), keywords, comment_tags, options)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        for value in _messages_table(node):
            text = _message(value)
            if text:
                yield value.lineno, "gettext", text, []
        if not isinstance(node, ast.Call) or _called(node) not in ERROR_CALLS:
            continue
        position = ERROR_CALLS[str(_called(node))]
        arg = node.args[position] if len(node.args) > position else None
        for kw in node.keywords:
            if kw.arg == "detail":
                arg = kw.value
        message = _message(arg) if arg is not None else None
        if message and re.search(r"[A-Za-z]{2}", message):
            comments = (
                ["{0}, {1}, … are filled in by the code"] if PLACEHOLDER.search(message) else []
            )
            yield node.lineno, "gettext", message, comments


@cache
def _patterns(tag: str) -> list[tuple[re.Pattern[str], str]]:
    """The language's pattern msgids as regular expressions, with their translations."""
    catalog = load(tag).catalog
    if catalog is None:
        return []
    out = []
    for message in catalog:
        msgid, msgstr = message.id, message.string
        if not isinstance(msgid, str) or not isinstance(msgstr, str) or not msgstr:
            continue
        if message.fuzzy or not PLACEHOLDER.search(msgid):
            continue
        pieces = PLACEHOLDER.split(msgid)
        regex = "".join(
            re.escape(piece) if i % 2 == 0 else f"(?P<f{piece}>.+?)"
            for i, piece in enumerate(pieces)
        )
        out.append((re.compile(regex + r"\Z", re.DOTALL), msgstr))
    return out


def _fill(msgstr: str, fields: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: fields.get(m.group(1), m.group(0)), msgstr)


def translate(detail: str) -> str:
    """A service's English message in the current language (as it is when not translated)."""
    found = gettext(detail)
    if found != detail:
        return found
    for regex, msgstr in _patterns(current()):
        match = regex.match(detail)
        if match:
            return _fill(msgstr, {k[1:]: gettext(v) for k, v in match.groupdict().items()})
    return detail
