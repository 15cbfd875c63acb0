"""A worker's saves of its live turns (`save_progress`), against a real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from arena.battles import store as battles
from arena.battles import views
from arena.battles.runner import TurnRunner
from arena.battles.saves import save_progress
from arena.core.rules import GenerationRules, Timeouts
from arena.store.tables import Answer, Battle, Turn

FAIL_ANSWER_UPDATES = {
    "sqlite": [
        "CREATE TRIGGER no_saves BEFORE UPDATE ON answer "
        "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION no_saves() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$",
        "CREATE TRIGGER no_saves BEFORE UPDATE ON answer FOR EACH ROW EXECUTE FUNCTION no_saves()",
    ],
}


def generator(engine: Engine) -> TurnRunner:
    rules = GenerationRules(
        timeouts=Timeouts(),
        persist_interval=0.5,
        replacement_tries=0,
        breaker_failures=3,
        breaker_pause=timedelta(minutes=1),
        default_max_tokens=100,
    )
    return TurnRunner(engine, rules)


def contents(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {a.side: a.content for a in s.exec(select(Answer)).all()}


async def test_progress_that_failed_to_save_is_saved_next_time(engine: Engine) -> None:
    request = battles.StartRequest("v", None, "Hello?")
    (draw,) = battles.draw_battles(engine, [request])
    assert isinstance(draw, battles.Draw)
    gen = generator(engine)
    run = gen.start(draw, "v", "Hello?")
    run.stop(by_voter=True)  # nothing is asked upstream here; the run is saved by hand
    (stored,) = battles.store_battles(engine, [(draw, request)])
    run.bind(*stored)
    run.sides["a"].content.append("Hi")
    run.sides["b"].content.append("Hey")

    with engine.begin() as conn:
        for statement in FAIL_ANSWER_UPDATES[engine.dialect.name]:
            conn.exec_driver_sql(statement)
    with pytest.raises(DBAPIError):
        save_progress(engine, {run.turn_id: run.sides.values()})
    assert contents(engine) == {"a": "", "b": ""}
    with engine.begin() as conn:
        on = " ON answer" if engine.dialect.name == "postgresql" else ""
        conn.exec_driver_sql(f"DROP TRIGGER no_saves{on}")

    assert save_progress(engine, {run.turn_id: run.sides.values()}) == set()
    assert contents(engine) == {"a": "Hi", "b": "Hey"}
    run.sides["a"].content.append(" there")
    with Session(engine) as s:
        turn = s.exec(select(Turn)).one()
        turn.cancel_requested = True  # a stop asked on another worker
        s.add(turn)
        s.commit()
    assert save_progress(engine, {run.turn_id: run.sides.values()}) == {run.turn_id}
    assert contents(engine) == {"a": "Hi there", "b": "Hey"}
    await gen.shutdown()


def test_a_view_read_while_its_turn_ends_agrees_with_itself(engine: Engine) -> None:
    """The turn ends between the view's read of the battle and of its turns (CI once rendered
    finished answers under a closed vote, with no stream left to open it): the view goes by the
    turn, so the page offers the vote."""
    request = battles.StartRequest("v", None, "Hello?")
    (draw,) = battles.draw_battles(engine, [request])
    assert isinstance(draw, battles.Draw)
    ((turn_id, _),) = battles.store_battles(engine, [(draw, request)])
    ended = []

    def end_the_turn(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if (
            not ended
            and statement.lstrip().upper().startswith("SELECT")
            and "FROM battle" in statement
        ):
            ended.append(True)
            with engine.begin() as other:  # another connection, as another worker's save would
                other.execute(update(Turn).where(col(Turn.id) == turn_id).values(status="done"))
                other.execute(
                    update(Battle).where(col(Battle.id) == draw.battle_id).values(status="ready")
                )

    event.listen(engine, "after_cursor_execute", end_the_turn)
    try:
        view = views.battle_view(engine, battle_id=draw.battle_id, voter_id="v")
    finally:
        event.remove(engine, "after_cursor_execute", end_the_turn)
    assert ended and view.turns[0].status == "done"
    assert view.status == "ready"
