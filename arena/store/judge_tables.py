"""The tables of LLM judging and prompt sets: judgements (kept for audit), sets, prompts, answers.

Kept apart from `tables.py` so that the judge's rows never mix with the human votes: a judgement
is never a `Vote`, and the human leaderboard reads only votes.
"""

from __future__ import annotations

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from arena.store.tables import utcnow


class Judgement(SQLModel, table=True):
    """One judge call on one pair of answers in one order: the job, then its audit record.

    `subject` names what is judged: `b:<battle id>` for a battle, `p:<prompt item>:<a>:<b>` for a
    prompt-set pair; with the judge and the order it is unique, so any number of workers may try
    to enqueue the same job and only one row results. A worker claims a pending row with one
    conditional UPDATE, so several workers sharing a database never call the judge twice.
    """

    __table_args__ = (UniqueConstraint("subject", "judge_id", "swapped"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=120)
    battle_id: str | None = Field(default=None, foreign_key="battle.id", index=True, max_length=32)
    prompt_item_id: int | None = Field(default=None, foreign_key="promptitem.id", index=True)
    judge_id: int = Field(foreign_key="endpoint.id", index=True)
    # The contestants in the battle's own orientation (a, b), whatever order the judge saw.
    model_a_id: int = Field(foreign_key="endpoint.id")
    model_b_id: int = Field(foreign_key="endpoint.id")
    # False: the judge saw a as "Assistant A"; True: the answers were swapped.
    swapped: bool = False
    # pending | running | done | failed (gave up after the retries)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    not_before: NaiveDatetime = Field(default_factory=utcnow)
    claimed_at: NaiveDatetime | None = None
    # What the judge was sent and what it said (keys scrubbed by the upstream guard).
    prompt: str = Field(default="", sa_column=Column(Text, nullable=False))
    reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The last verdict label in the reply as the judge wrote it ("A>>B" … "B>>A"), or None.
    verdict: str | None = Field(default=None, max_length=8)
    # That verdict in the battle's orientation: model_a | model_b | tie; None = no verdict.
    outcome: str | None = Field(default=None, max_length=16)
    strong: bool = False
    # The conversation's categories and style features, as a vote has them (for the boards).
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    style: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    finished_at: NaiveDatetime | None = Field(default=None, index=True)


class PromptSet(SQLModel, table=True):
    """A named list of prompts that every chosen model answers (an offline benchmark)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class PromptItem(SQLModel, table=True):
    """One prompt of a set."""

    __table_args__ = (UniqueConstraint("set_id", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="promptset.id", index=True)
    index: int = 0
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    category: str | None = Field(default=None, max_length=100)


class PromptAnswer(SQLModel, table=True):
    """A model's answer to a prompt of a set, stored as soon as it is complete (so a run that
    dies resumes without asking for it again)."""

    __table_args__ = (UniqueConstraint("item_id", "endpoint_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="promptitem.id", index=True)
    endpoint_id: int = Field(foreign_key="endpoint.id")
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_ms: float | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)
