"""What a judge is sent: the judge prompt (the repo's default, or the one an admin saved) and the
conversation with both answers laid out as arena-hard-auto lays them out."""

from __future__ import annotations

from importlib import resources

from sqlalchemy import Engine

from arena.store.engine import session_scope
from arena.store.tables import Meta

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


def user_message(turns: list[tuple[str, str, str]]) -> str:
    """The user prompt(s) and the two answers, as (prompt, answer shown as A, answer shown as B).

    One turn is arena-hard's layout; several turns show each assistant's whole conversation."""
    if len(turns) == 1:
        prompt, a, b = turns[0]
        return (
            f"<|User Prompt|>\n{prompt}\n\n"
            f"<|The Start of Assistant A's Answer|>\n{a}\n<|The End of Assistant A's Answer|>\n\n"
            f"<|The Start of Assistant B's Answer|>\n{b}\n<|The End of Assistant B's Answer|>"
        )
    parts: list[str] = []
    for side, index in (("A", 1), ("B", 2)):
        parts.append(f"<|The Start of Assistant {side}'s Conversation with User|>\n")
        for turn in turns:
            parts.append(f"### User:\n{turn[0]}\n\n### Assistant {side}:\n{turn[index]}\n")
        parts.append(f"<|The End of Assistant {side}'s Conversation with User|>\n")
    return "\n".join(parts).strip()


def judge_messages(
    system: str, turns: list[tuple[str, str, str]], *, swapped: bool
) -> list[dict[str, str]]:
    """The messages of one judge call; `swapped` shows b's answers as Assistant A's."""
    shown = [(p, b, a) if swapped else (p, a, b) for p, a, b in turns]
    return [{"role": "system", "content": system}, {"role": "user", "content": user_message(shown)}]
