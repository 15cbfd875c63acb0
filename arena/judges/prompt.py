"""What a judge is sent: the judge prompt (the repo's default, or the one an admin saved) and the
conversation with both answers laid out as arena-hard-auto lays them out."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import NamedTuple

from sqlalchemy import Engine

from arena.store.engine import session_scope
from arena.store.tables import Meta
from arena.upstream.client import Message, UserContent, user_content

PROMPT_KEY = "judge_prompt"
MAX_PROMPT_CHARS = 20_000


def default_prompt() -> str:
    """The judge prompt shipped with the arena."""
    return resources.files("arena.judges").joinpath("judge_prompt.md").read_text("utf-8").strip()


def current_prompt(engine: Engine) -> str:
    """The judge prompt in use: the one an admin saved, else the default."""
    with session_scope(engine) as session:
        row = session.get(Meta, PROMPT_KEY)
        return row.value if row is not None and row.value.strip() else default_prompt()


def save_prompt(engine: Engine, text: str | None) -> str:
    """Save an admin's judge prompt (empty or None restores the default); returns the one in use.

    ValueError when it is too long or has no verdict label for the judge to copy."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(f"the judge prompt is limited to {MAX_PROMPT_CHARS} characters")
    if text and "[[A>>B]]" not in text and "[[A=B]]" not in text:
        raise ValueError("the judge prompt must show the verdict labels, e.g. [[A>>B]] … [[B>>A]]")
    with session_scope(engine) as session:
        row = session.get(Meta, PROMPT_KEY)
        if not text:
            if row is not None:
                session.delete(row)
            return default_prompt()
        if row is None:
            row = Meta(key=PROMPT_KEY, value=text)
        row.value = text
        session.add(row)
    return text


class JudgedTurn(NamedTuple):
    """One turn as a judge sees it: the prompt, both answers (in the battle's orientation) and the
    data: URIs of the images the prompt carried."""

    prompt: str
    a: str
    b: str
    images: tuple[str, ...] = ()


def _prompt(text: str, first: int, count: int) -> str:
    """A user prompt, and which of the attached images it carried (numbered in sending order)."""
    if not count:
        return text
    tags = " ".join(f"<image {k}>" for k in range(first, first + count))
    return f"{text}\n\n[{tags}: attached below, in this order]"


def user_message(turns: Sequence[tuple[str, str, str]], image_counts: Sequence[int] = ()) -> str:
    """The user prompt(s) and the two answers, as (prompt, answer shown as A, answer shown as B);
    `image_counts`: how many images each prompt carried (they follow the text, numbered).

    One turn is arena-hard's layout; several turns show each assistant's whole conversation."""
    counts = list(image_counts) or [0] * len(turns)
    firsts = [1 + sum(counts[:i]) for i in range(len(counts))]
    prompts = [_prompt(t[0], f, n) for t, f, n in zip(turns, firsts, counts, strict=True)]
    if len(turns) == 1:
        _, a, b = turns[0]
        return (
            f"<|User Prompt|>\n{prompts[0]}\n\n"
            f"<|The Start of Assistant A's Answer|>\n{a}\n<|The End of Assistant A's Answer|>\n\n"
            f"<|The Start of Assistant B's Answer|>\n{b}\n<|The End of Assistant B's Answer|>"
        )
    parts: list[str] = []
    for side, index in (("A", 1), ("B", 2)):
        parts.append(f"<|The Start of Assistant {side}'s Conversation with User|>\n")
        for turn, prompt in zip(turns, prompts, strict=True):
            parts.append(f"### User:\n{prompt}\n\n### Assistant {side}:\n{turn[index]}\n")
        parts.append(f"<|The End of Assistant {side}'s Conversation with User|>\n")
    return "\n".join(parts).strip()


def judge_messages(system: str, turns: Sequence[JudgedTurn], *, swapped: bool) -> list[Message]:
    """The messages of one judge call; `swapped` shows b's answers as Assistant A's. Images of
    the prompts follow the text as image parts, numbered as the text names them."""
    shown = [(t.prompt, t.b, t.a) if swapped else (t.prompt, t.a, t.b) for t in turns]
    text = user_message(shown, [len(t.images) for t in turns])
    images = [uri for t in turns for uri in t.images]
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user_content(text, images)},
    ]


def shown_text(content: UserContent) -> str:
    """The text of a message's content (a judgement records what the judge read, not images)."""
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
