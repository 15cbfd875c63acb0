"""A progress save that lands after the final save never undoes the turn's end."""

from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.battles import store as battles
from arena.battles.runner import TurnRunner
from arena.battles.saves import save_end, save_progress
from arena.core.rules import GenerationRules
from arena.store.tables import Answer


async def test_a_late_progress_save_keeps_the_final_one(engine: Engine) -> None:
    request = battles.StartRequest("v", None, "Hello?")
    (draw,) = battles.draw_battles(engine, [request])
    assert isinstance(draw, battles.Draw)
    runner = TurnRunner(engine, GenerationRules(breaker_pause=timedelta(minutes=1)))
    run = runner.start(draw, "v", "Hello?")
    run.stop(by_voter=False)  # nothing is asked upstream here; the run is saved by hand
    (stored,) = battles.store_battles(engine, [(draw, request)])
    run.bind(*stored)
    stale = {side: copy.copy(st) for side, st in run.sides.items()}  # what the saver read
    for st in run.sides.values():
        st.status, st.error, st.error_detail = "failed", "The model could not answer.", "x"
    save_end(engine, draw.battle_id, run.turn_id, run.sides, "failed")
    save_progress(engine, {run.turn_id: stale.values()})
    with Session(engine) as s:
        assert {a.status for a in s.exec(select(Answer)).all()} == {"failed"}
    await runner.shutdown()
