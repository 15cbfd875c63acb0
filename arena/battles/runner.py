"""Starting and following turns: which worker generates, and how everyone else gets the events.

The worker whose stream request claims a turn (a conditional UPDATE, see `battles.claim_turn`) runs
it as a detached task: a voter who closes the tab does not stop it, a reconnect on this worker
follows it live, and a reconnect on any other worker replays it from the database, which the run
writes every `persist_interval` seconds and at the end. Nothing another worker needs is only here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import col, select

from arena.battles.context import RunContext, Upstreams
from arena.battles.events import KEEPALIVE_SECONDS, Event, Ping, SideDone, TextEvent, TurnEnd
from arena.battles.saves import SideState, save_progress
from arena.battles.store import (
    SIDES,
    BattleError,
    Draw,
    claim_turn,
    expire_orphans,
    owned_battle,
)
from arena.battles.turn import TurnRun
from arena.battles.vision import turn_contents
from arena.core.rules import GenerationRules
from arena.images.clean import CleanImage
from arena.store.engine import in_thread, session_scope
from arena.store.tables import Answer, Battle, Endpoint, Turn
from arena.upstream.client import build_messages, user_content
from arena.upstream.moderation import Moderator

log = logging.getLogger(__name__)


class TurnRunner:
    """The worker's turns: it starts them, finds the live ones, and follows the others."""

    def __init__(
        self,
        engine: Engine,
        rules: GenerationRules,
        *,
        decrypt: Callable[[str], str] | None = None,
        moderator: Moderator | None = None,
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.upstreams = Upstreams(
            rules.timeouts, default_max_tokens=rules.default_max_tokens, decrypt=decrypt
        )
        self.runs: dict[str, TurnRun] = {}
        self.ctx = RunContext(engine, rules, self.upstreams, moderator, on_end=self._ended)
        self.persist_interval = rules.persist_interval
        self.poll_interval = min(0.25, rules.persist_interval)
        self._saver: asyncio.Task[None] | None = None

    def _ended(self, battle_id: str) -> None:
        self.runs.pop(battle_id, None)

    def start(
        self, draw: Draw, voter_id: str, prompt: str, images: Sequence[CleanImage] = ()
    ) -> TurnRun:
        """Ask both models of a drawn battle now; the caller stores the battle meanwhile and
        then calls `bind` (or `abandon`) on the run."""
        sides: dict[str, SideState] = {}
        # One list of parts shared by both sides: the images' base64 is built once.
        content = user_content(prompt, [img.data_uri() for img in images])
        for side in SIDES:
            endpoint = draw.endpoints[side]
            params = self.upstreams.params_for(endpoint)
            sides[side] = SideState(
                answer_id=0,  # known once stored
                endpoint_id=endpoint.id or 0,
                params=params,
                messages=build_messages(params.system_prompt, [], content),
            )
        run = TurnRun(self.ctx, draw.battle_id, 0, 0, sides, voter_id, stored=False)
        self._launch(run)
        return run

    def _launch(self, run: TurnRun) -> None:
        """Start a run; the worker's progress saver runs while any run is live."""
        self.runs[run.battle_id] = run
        run.launch()
        if self._saver is None or self._saver.done():
            self._saver = asyncio.create_task(self._save_periodically())

    async def _save_periodically(self) -> None:
        """Every `persist_interval`, save all live runs of this worker in one transaction, and
        stop the ones a voter stopped through another worker. Ends when no run is live."""
        while self.runs:
            await asyncio.sleep(self.persist_interval)
            runs = [r for r in self.runs.values() if r.stored and not r.finishing]
            if not runs:
                continue
            try:
                turns = {run.turn_id: run.sides.values() for run in runs}
                cancelled = await in_thread(save_progress, self.engine, turns)
            except Exception:  # a busy or unreachable database: the next round tries again
                log.exception("saving the progress of %d live turns failed", len(runs))
                continue
            for run in runs:
                if run.turn_id in cancelled and not run.stopping:
                    run.stop(by_voter=True)

    async def start_stored(self, battle_id: str) -> None:
        """Generate the battle's current turn, which the caller stored already claimed."""
        turn_id, _ = await asyncio.to_thread(self._current_turn, battle_id, None)
        try:
            run = await asyncio.to_thread(self._plan, battle_id, turn_id)
        except Exception:
            await asyncio.to_thread(self._fail_unstartable, battle_id, turn_id)
            raise
        self._launch(run)

    async def open(self, battle_id: str, voter_id: str) -> AsyncIterator[list[Event]]:
        """Check access, start the current turn if nobody has, and return its events in batches."""
        run = self.runs.get(battle_id)
        if run is not None and run.voter_id == voter_id:
            # Generated here, for this voter: follow it live without asking the database.
            return run.follow()
        turn_id = await self._start_pending(battle_id, voter_id)
        run = self.runs.get(battle_id)
        if run is not None and run.turn_id == turn_id:
            return run.follow()
        return self._poll(battle_id, turn_id)

    async def _start_pending(self, battle_id: str, voter_id: str | None) -> int:
        """Claim and start the current turn if it is pending; return its id."""
        try:
            turn_id, run = await asyncio.to_thread(self._claim_and_plan, battle_id, voter_id)
        except BattleError:
            raise
        if run is not None:
            self._launch(run)
        return turn_id

    def _claim_and_plan(self, battle_id: str, voter_id: str | None) -> tuple[int, TurnRun | None]:
        """One thread hop: find the current turn, claim it if pending, plan the run."""
        turn_id, status = self._current_turn(battle_id, voter_id)
        if status != "pending" or not claim_turn(self.engine, turn_id):
            return turn_id, None
        try:
            return turn_id, self._plan(battle_id, turn_id)
        except Exception:
            self._fail_unstartable(battle_id, turn_id)
            raise

    async def stop(self, battle_id: str, voter_id: str) -> None:
        """Stop the current turn on whichever worker generates it."""
        turn_id, _ = await asyncio.to_thread(self._current_turn, battle_id, voter_id)
        run = self.runs.get(battle_id)
        if run is not None and run.turn_id == turn_id:
            run.stop(by_voter=True)
            return
        await asyncio.to_thread(self._request_cancel, turn_id)

    async def shutdown(self) -> None:
        """Interrupt every live run, wait for its final save, close the clients."""
        runs = list(self.runs.values())
        for run in runs:
            run.stop(by_voter=False)
        tasks = [r.task for r in runs if r.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
        await self.upstreams.close()

    def _current_turn(self, battle_id: str, voter_id: str | None) -> tuple[int, str]:
        with session_scope(self.engine) as session:
            if voter_id is not None:
                owned_battle(session, battle_id, voter_id)
            turn = session.exec(
                select(Turn).where(Turn.battle_id == battle_id).order_by(col(Turn.index).desc())
            ).first()
            if turn is None or turn.id is None:
                raise BattleError(404, "This battle has no turn.")
            return turn.id, turn.status

    def _request_cancel(self, turn_id: int) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                update(Turn).where(col(Turn.id) == turn_id).values(cancel_requested=True)
            )

    def _fail_unstartable(self, battle_id: str, turn_id: int) -> None:
        with session_scope(self.engine) as session:
            session.execute(update(Turn).where(col(Turn.id) == turn_id).values(status="failed"))
            session.execute(
                update(Battle).where(col(Battle.id) == battle_id).values(status="failed")
            )

    def _plan(self, battle_id: str, turn_id: int) -> TurnRun:
        """Everything a run needs, read in one transaction."""
        with session_scope(self.engine) as session:
            turn = session.get(Turn, turn_id)
            assert turn is not None
            earlier = session.exec(
                select(Turn)
                .where(Turn.battle_id == battle_id, col(Turn.index) < turn.index)
                .order_by(col(Turn.index))
            ).all()
            turn_ids = [t.id for t in earlier] + [turn_id]
            answers = session.exec(select(Answer).where(col(Answer.turn_id).in_(turn_ids))).all()
            by_key: dict[tuple[int, str], Answer] = {(a.turn_id, a.side): a for a in answers}
            prompts = turn_contents(session, [*earlier, turn])
            sides: dict[str, SideState] = {}
            for side in SIDES:
                ans = by_key[(turn_id, side)]
                endpoint = session.get(Endpoint, ans.endpoint_id)
                assert endpoint is not None and ans.id is not None
                # Only role and content go back: reasoning is never part of the history.
                history = [(prompts[t.id or 0], by_key[(t.id or 0, side)].content) for t in earlier]
                params = self.upstreams.params_for(endpoint)
                sides[side] = SideState(
                    answer_id=ans.id,
                    endpoint_id=ans.endpoint_id,
                    params=params,
                    messages=build_messages(params.system_prompt, history, prompts[turn_id]),
                    status="streaming",
                )
            battle = session.get(Battle, battle_id)
            assert battle is not None
            return TurnRun(self.ctx, battle_id, turn_id, turn.index, sides, battle.voter_id)

    def _read_turn(self, turn_id: int) -> tuple[Turn, list[Answer], str]:
        with session_scope(self.engine) as session:
            turn = session.get(Turn, turn_id)
            assert turn is not None
            answers = list(session.exec(select(Answer).where(Answer.turn_id == turn_id)).all())
            battle = session.get(Battle, turn.battle_id)
            assert battle is not None
            return turn, answers, battle.status

    async def _poll(self, battle_id: str, turn_id: int) -> AsyncIterator[list[Event]]:
        """Follow a turn another worker generates (or that has ended) through the database."""
        sent: dict[tuple[str, str], int] = {}
        finished: set[str] = set()
        idle = 0.0
        stale_after = timedelta(seconds=max(15.0, 10 * self.persist_interval))
        while True:
            turn, answers, battle_status = await asyncio.to_thread(self._read_turn, turn_id)
            changed = False
            for ans in sorted(answers, key=lambda a: a.side):
                for kind, text in (("reasoning", ans.reasoning or ""), ("content", ans.content)):
                    n = sent.get((ans.side, kind))
                    if n is None and text:  # only once there is text: no empty first delta
                        yield [TextEvent(ans.side, kind, text, replace=True)]
                    elif n is not None and len(text) > n:
                        yield [TextEvent(ans.side, kind, text[n:])]
                    else:
                        continue
                    sent[(ans.side, kind)] = len(text)
                    changed = True
                if ans.status in ("done", "failed") and ans.side not in finished:
                    finished.add(ans.side)
                    changed = True
                    stopped = ans.finish_reason == "stopped"
                    yield [
                        SideDone(
                            ans.side, ans.status, ans.error, ans.content, ans.reasoning, stopped
                        )
                    ]
            if turn.status in ("done", "failed"):
                yield [TurnEnd("ready" if battle_status in ("ready", "voted") else "failed")]
                return
            if turn.status == "streaming" and await asyncio.to_thread(
                expire_orphans, self.engine, turn_id=turn_id, stale_after=stale_after
            ):
                continue
            idle = 0.0 if changed else idle + self.poll_interval
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield [Ping()]
            await asyncio.sleep(self.poll_interval)
