"""Prompt sets: importing them (JSON Lines or plain text) and listing what each holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import col
from sqlmodel import select as sm_select

from arena.store.engine import session_scope
from arena.store.judge_tables import Judgement, PromptAnswer, PromptItem, PromptSet

MAX_PROMPT_CHARS = 30_000
MAX_PROMPTS = 100_000


@dataclass(frozen=True)
class SetSummary:
    """A prompt set and how far its runs have got."""

    name: str
    prompts: int
    answers: int
    judgements: int


def parse_prompts(text: str) -> list[tuple[str, str | None]]:
    """(prompt, category) pairs from JSON Lines `{"prompt", "category"?}` or plain text lines.

    A file whose first non-blank line is a JSON object is JSON Lines; otherwise each non-blank
    line is one prompt. ValueError names the line of anything unusable."""
    lines = [(no, line.strip()) for no, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise ValueError("no prompts in the file")
    as_json = lines[0][1].startswith("{")
    out: list[tuple[str, str | None]] = []
    for no, line in lines:
        prompt: Any
        category: Any = None
        if not as_json:
            prompt = line
        else:
            try:
                item: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {no}: not JSON ({exc.msg})") from None
            prompt = item.get("prompt") if isinstance(item, dict) else None
            category = item.get("category") if isinstance(item, dict) else None
            if not isinstance(prompt, str) or not prompt.strip():
                raise ValueError(f'line {no}: needs a non-empty "prompt" string')
            if category is not None and not isinstance(category, str):
                raise ValueError(f'line {no}: "category" must be a string')
        if len(prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"line {no}: a prompt is limited to {MAX_PROMPT_CHARS} characters")
        out.append((prompt.strip(), (category or "").strip()[:100] or None))
    if len(out) > MAX_PROMPTS:
        raise ValueError(f"a set is limited to {MAX_PROMPTS} prompts")
    return out


def import_set(engine: Engine, name: str, prompts: list[tuple[str, str | None]]) -> int:
    """Create the set `name` with these prompts; ValueError if the name is taken or bad."""
    name = name.strip()
    if not name or len(name) > 100 or any(c in name for c in "/\n\r\t"):
        raise ValueError("a set's name is 1 to 100 characters without / or line breaks")
    with session_scope(engine) as session:
        if session.exec(sm_select(PromptSet).where(col(PromptSet.name) == name)).first():
            raise ValueError(f"a prompt set named {name!r} exists already")
        ps = PromptSet(name=name)
        session.add(ps)
        session.flush()
        for i, (prompt, category) in enumerate(prompts):
            session.add(PromptItem(set_id=ps.id or 0, index=i, prompt=prompt, category=category))
    return len(prompts)


def find_set(engine: Engine, name: str) -> tuple[int, list[PromptItem]]:
    """A set's id and prompts in order; LookupError when there is no such set."""
    with session_scope(engine) as session:
        ps = session.exec(sm_select(PromptSet).where(col(PromptSet.name) == name)).first()
        if ps is None:
            raise LookupError(
                f"no prompt set named {name!r} (import one with `arena prompts import`)"
            )
        items = session.exec(
            sm_select(PromptItem)
            .where(col(PromptItem.set_id) == ps.id)
            .order_by(col(PromptItem.index))
        ).all()
        return ps.id or 0, list(items)


def list_sets(engine: Engine) -> list[SetSummary]:
    """Every prompt set with its counts of prompts, stored answers and finished judgements."""
    out: list[SetSummary] = []
    with engine.connect() as conn:
        sets = conn.execute(
            select(col(PromptSet.id), col(PromptSet.name)).order_by(col(PromptSet.name))
        ).all()
        for set_id, name in sets:
            items = select(col(PromptItem.id)).where(col(PromptItem.set_id) == set_id)
            prompts = conn.execute(select(func.count()).select_from(items.subquery())).scalar_one()
            answers = conn.execute(
                select(func.count()).where(col(PromptAnswer.item_id).in_(items))
            ).scalar_one()
            judged = conn.execute(
                select(func.count()).where(
                    col(Judgement.prompt_item_id).in_(items), col(Judgement.status) == "done"
                )
            ).scalar_one()
            out.append(SetSummary(str(name), int(prompts), int(answers), int(judged)))
    return out
