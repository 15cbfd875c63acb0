"""One side's answer while it is generated, and the statements that save it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import BindParameter, Engine, bindparam, or_, update
from sqlmodel import col, select

from arena.store import breaker
from arena.store.engine import begin, retrying
from arena.store.spend import Usage, record_spend
from arena.store.tables import Answer, Battle, Turn, utcnow
from arena.upstream.client import CallParams, Message
from arena.upstream.tokens import estimate_messages, estimate_tokens


@dataclass
class SideState:
    """One side's answer while it is being generated."""

    answer_id: int
    endpoint_id: int
    params: CallParams
    messages: list[Message]
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    status: str = "streaming"
    error: str | None = None
    error_detail: str | None = None
    finish_reason: str | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    attempts: int = 1
    tried: set[int] = field(default_factory=set)
    completed: bool = False  # the upstream sent the whole answer (not stopped, not failed)
    announced: bool = False  # its SideDone has been published (snapshots must not repeat it)
    saved_mark: tuple[int, int, str, int] | None = None  # what the database last got

    def row(self) -> dict[str, object]:
        """The parameters of `SAVE_ANSWER` for this answer (its id and columns)."""
        return {
            "b_id": self.answer_id,
            "b_endpoint_id": self.endpoint_id,
            "b_status": self.status,
            "b_content": "".join(self.content),
            "b_reasoning": "".join(self.reasoning) or None,
            "b_error": self.error,
            "b_error_detail": self.error_detail,
            "b_finish_reason": self.finish_reason,
            "b_ttft_ms": self.ttft_ms,
            "b_total_ms": self.total_ms,
            "b_prompt_tokens": self.prompt_tokens,
            "b_completion_tokens": self.completion_tokens,
            "b_tokens_estimated": self.tokens_estimated,
            "b_attempts": self.attempts,
            "b_updated_at": utcnow(),
        }


def fill_usage(st: SideState) -> None:
    """Estimate the token counts the upstream did not report (llama.cpp's server may send no
    usage), and mark them as estimated: costs and speeds are then approximate."""
    if st.prompt_tokens is None:
        st.prompt_tokens = estimate_messages(st.messages)
        st.tokens_estimated = True
    if st.completion_tokens is None:
        st.completion_tokens = estimate_tokens("".join(st.content) + "".join(st.reasoning))
        st.tokens_estimated = True


# The saves' statements, built once: building an UPDATE from literal values (coercing each one
# and computing its cache key) costs far more CPU than running it. The parameters are prefixed,
# since a column's own name is reserved for its SET clause.
_ANSWER_COLUMNS = (
    "endpoint_id",
    "status",
    "content",
    "reasoning",
    "error",
    "error_detail",
    "finish_reason",
    "ttft_ms",
    "total_ms",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
    "attempts",
    "updated_at",
)


SAVE_ANSWER = (
    update(Answer)
    .where(col(Answer.id) == bindparam("b_id"))
    .values({c: bindparam(f"b_{c}") for c in _ANSWER_COLUMNS})
)


# A progress save never overwrites a finished answer: the worker's saver may have read a side
# while it was still streaming and commit after the final save (`save_end`) wrote its end.
_SAVE_PROGRESS = SAVE_ANSWER.where(
    or_(col(Answer.status) == "pending", col(Answer.status) == "streaming")
)


_END_TURN = (
    update(Turn)
    .where(col(Turn.id) == bindparam("b_turn"))
    .values(heartbeat_at=bindparam("b_now"), status=bindparam("b_status"))
)


_END_BATTLE = (
    update(Battle)
    .where(col(Battle.id) == bindparam("b_battle"), col(Battle.status) == "streaming")
    .values(status=bindparam("b_final"), updated_at=bindparam("b_now"))
)


_TURN_IDS: BindParameter[list[int]] = bindparam("turn_ids", expanding=True)


_HEARTBEATS = (
    update(Turn).where(col(Turn.id).in_(_TURN_IDS)).values(heartbeat_at=bindparam("b_now"))
)


_STOPS_ASKED = select(Turn.id).where(col(Turn.id).in_(_TURN_IDS), col(Turn.cancel_requested))


def save_progress(engine: Engine, turns: Mapping[int, Iterable[SideState]]) -> set[int]:
    """Save what changed in these live turns and their heartbeats, in one transaction; returns
    the ids of the turns a voter asked (on another worker) to stop.

    A worker's live turns are saved together every `persist_interval`: one transaction instead
    of one per turn, which with a few hundred live streams keeps SQLite's single writer free
    for battle starts and votes. Plain Core statements; the commit need not wait for the disk,
    since the final save and the vote will.
    """
    now = utcnow()
    answers: list[dict[str, object]] = []
    marks: list[tuple[SideState, tuple[int, int, str, int]]] = []
    for sides in turns.values():
        for st in sides:
            mark = (len(st.content), len(st.reasoning), st.status, st.endpoint_id)
            if mark != st.saved_mark:
                answers.append(st.row())
                marks.append((st, mark))
    turn_ids = list(turns)
    with begin(engine, durable=False) as conn:
        if answers:
            conn.execute(_SAVE_PROGRESS, answers)  # one executemany
        conn.execute(_HEARTBEATS, {"turn_ids": turn_ids, "b_now": now})
        cancelled = conn.execute(_STOPS_ASKED, {"turn_ids": turn_ids}).scalars()
        stop = {int(t) for t in cancelled if t is not None}
    for st, mark in marks:  # only once committed: a failed save is written again next time
        st.saved_mark = mark
    return stop


def save_end(
    engine: Engine, battle_id: str, turn_id: int, sides: dict[str, SideState], final: str
) -> None:
    """The end of a turn, durably: both answers, the turn, the battle, and the breaker; run
    again when PostgreSQL aborts it to break a deadlock (`store.engine.retrying`)."""
    retrying(_save_end, engine, battle_id, turn_id, sides, final)


def _save_end(
    engine: Engine, battle_id: str, turn_id: int, sides: dict[str, SideState], final: str
) -> None:
    now = utcnow()
    with begin(engine) as conn:
        conn.execute(SAVE_ANSWER, [st.row() for st in sides.values()])
        status = "done" if final == "ready" else "failed"
        conn.execute(_END_TURN, {"b_turn": turn_id, "b_now": now, "b_status": status})
        conn.execute(_END_BATTLE, {"b_battle": battle_id, "b_final": final, "b_now": now})
        completed = [st.endpoint_id for st in sides.values() if st.completed]
        if completed:
            breaker.record_successes(conn, completed)
        record_spend(
            conn,
            [
                Usage(st.endpoint_id, st.prompt_tokens, st.completion_tokens)
                for st in sides.values()
                if st.prompt_tokens is not None or st.completion_tokens is not None
            ],
            now,
        )
