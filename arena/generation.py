"""Running a turn: both upstream streams at once, fanned out to live followers, saved as they go.

The worker whose stream request claims a turn (a conditional UPDATE, see `battles.claim_turn`) runs
it as a detached task: a voter who closes the tab does not stop it, a reconnect on this worker
follows it live, and a reconnect on any other worker replays it from the database, which the run
writes every `persist_interval` seconds and at the end. Nothing another worker needs is only here.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from openai import AsyncOpenAI
from sqlalchemy import Engine, update
from sqlmodel import col, select

from arena import breaker
from arena.battles import (
    SIDES,
    BattleError,
    NewTurn,
    claim_turn,
    expire_orphans,
    owned_battle,
)
from arena.db import begin, session_scope
from arena.endpoints import drawable_endpoints, resolve_api_key
from arena.matchmaking import draw_replacement
from arena.moderation import Moderator
from arena.providers import (
    CallParams,
    Delta,
    Timeouts,
    UpstreamError,
    build_messages,
    make_client,
    stream_answer,
    voter_message,
)
from arena.tables import Answer, Battle, Endpoint, Turn, utcnow


@dataclass(frozen=True, slots=True)
class TextEvent:
    """Text for one side; `replace` means it is the whole text so far (a replay), not a piece."""

    side: str
    kind: str  # content | reasoning
    text: str
    replace: bool = False


@dataclass(frozen=True, slots=True)
class SideDone:
    """One side finished: `done`, or `failed` with a neutral error for the voter."""

    side: str
    status: str
    error: str | None
    content: str
    reasoning: str | None = None


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The turn is over; `status` is the battle's: `ready` (vote now) or `failed`."""

    status: str


@dataclass(frozen=True, slots=True)
class Ping:
    """Nothing new; keeps proxies from closing an idle stream."""


Event = TextEvent | SideDone | TurnEnd | Ping
KEEPALIVE_SECONDS = 15.0


@dataclass
class SideState:
    """One side's answer while it is being generated."""

    answer_id: int
    endpoint_id: int
    params: CallParams
    messages: list[dict[str, str]]
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
    attempts: int = 1
    tried: set[int] = field(default_factory=set)
    announced: bool = False  # its SideDone has been published (snapshots must not repeat it)
    saved_mark: tuple[int, int, str, int] | None = None  # what the database last got

    def values(self) -> dict[str, object]:
        """The columns of the Answer row."""
        return {
            "endpoint_id": self.endpoint_id,
            "status": self.status,
            "content": "".join(self.content),
            "reasoning": "".join(self.reasoning) or None,
            "error": self.error,
            "error_detail": self.error_detail,
            "finish_reason": self.finish_reason,
            "ttft_ms": self.ttft_ms,
            "total_ms": self.total_ms,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "attempts": self.attempts,
            "updated_at": utcnow(),
        }


class TurnRun:
    """One turn being generated in this process."""

    def __init__(
        self,
        gen: Generator,
        battle_id: str,
        turn_id: int,
        index: int,
        sides: dict[str, SideState],
        voter_id: str,
    ) -> None:
        self.gen, self.battle_id, self.turn_id, self.index = gen, battle_id, turn_id, index
        self.sides = sides
        self.voter_id = voter_id
        self.subscribers: set[asyncio.Queue[Event]] = set()
        self.ended: TurnEnd | None = None
        self.stopping = False
        self.side_tasks: dict[str, asyncio.Task[None]] = {}
        self.task: asyncio.Task[None] | None = None

    def publish(self, event: Event) -> None:
        """Hand an event to every live follower."""
        for q in self.subscribers:
            q.put_nowait(event)

    def snapshot(self) -> list[Event]:
        """The events that bring a new follower up to date."""
        out: list[Event] = []
        for side in SIDES:
            st = self.sides[side]
            if st.reasoning:
                out.append(TextEvent(side, "reasoning", "".join(st.reasoning), replace=True))
            out.append(TextEvent(side, "content", "".join(st.content), replace=True))
            if st.announced:
                out.append(
                    SideDone(
                        side,
                        st.status,
                        st.error,
                        "".join(st.content),
                        "".join(st.reasoning) or None,
                    )
                )
        if self.ended:
            out.append(self.ended)
        return out

    async def follow(self) -> AsyncIterator[list[Event]]:
        """The turn's events from now on, starting with a snapshot, in batches.

        Whatever queued up while the previous batch was being written goes out in one write, so a
        busy server sends fewer, larger frames instead of falling behind token by token.
        """
        q: asyncio.Queue[Event] = asyncio.Queue()
        snapshot = self.snapshot()  # taken and subscribed with no await between: nothing is lost
        self.subscribers.add(q)
        try:
            yield snapshot
            if self.ended:
                return
            while True:
                try:
                    batch = [await asyncio.wait_for(q.get(), KEEPALIVE_SECONDS)]
                except TimeoutError:
                    yield [Ping()]
                    continue
                while not q.empty():
                    batch.append(q.get_nowait())
                yield batch
                if isinstance(batch[-1], TurnEnd):
                    return
        finally:
            self.subscribers.discard(q)

    async def run(self) -> None:
        """Run both sides at once, save progress meanwhile, then save and announce the end."""
        for side in SIDES:
            self.side_tasks[side] = asyncio.create_task(self._run_side(side))
        saver = asyncio.create_task(self._save_periodically())
        try:
            await asyncio.gather(*self.side_tasks.values(), return_exceptions=True)
            if self.gen.moderator is not None and all(
                s.status == "done" for s in self.sides.values()
            ):
                await self._moderate()
        finally:
            saver.cancel()
            with contextlib.suppress(BaseException):
                await saver
            status = "ready" if all(s.status == "done" for s in self.sides.values()) else "failed"
            try:
                await asyncio.shield(asyncio.to_thread(self._save, final=status))
            finally:
                self.ended = TurnEnd(status)
                self.publish(self.ended)
                self.gen.runs.pop(self.battle_id, None)

    async def _moderate(self) -> None:
        """Check both answers with the moderation hook; a flagged one fails the battle."""
        moderator = self.gen.moderator
        assert moderator is not None
        for side, st in self.sides.items():
            verdict = await moderator.verdict(["".join(st.content)])
            if not moderator.allows(verdict):
                st.status = "failed"
                st.error = (
                    "This answer was withheld by the moderation filter."
                    if verdict == "flagged"
                    else "The moderation service is unavailable, so this answer cannot be shown."
                )
                st.error_detail = f"moderation: {verdict}"
                self.publish(SideDone(side, st.status, st.error, "", None))

    def stop(self, *, by_voter: bool) -> None:
        """Stop both sides; a voter's stop keeps the partial answers as finished."""
        self.stopping = by_voter
        for task in self.side_tasks.values():
            task.cancel()

    async def _run_side(self, side: str) -> None:
        st = self.sides[side]
        gen = self.gen
        started = time.monotonic()
        try:
            while True:
                first = True
                try:
                    client = gen.client(st.params)
                    async for item in stream_answer(client, st.params, st.messages, gen.timeouts):
                        if isinstance(item, Delta):
                            if first:
                                st.ttft_ms = (time.monotonic() - started) * 1000
                                first = False
                            (st.content if item.kind == "content" else st.reasoning).append(
                                item.text
                            )
                            self.publish(TextEvent(side, item.kind, item.text))
                        else:
                            st.finish_reason = item.finish_reason
                            st.prompt_tokens = item.prompt_tokens
                            # Without a usage report (llama.cpp's server sends none), the
                            # number of streamed pieces stands in: about one token each.
                            st.completion_tokens = item.completion_tokens or (
                                len(st.content) + len(st.reasoning)
                            )
                    st.status = "done"
                    await asyncio.to_thread(breaker.record_success, gen.engine, st.endpoint_id)
                    return
                except UpstreamError as err:
                    await asyncio.to_thread(
                        breaker.record_failure,
                        gen.engine,
                        st.endpoint_id,
                        err.detail,
                        gen.breaker_failures,
                        gen.breaker_pause,
                    )
                    # Nothing was shown yet: another model takes the seat unnoticed.
                    if (
                        first
                        and self.index == 0
                        and st.attempts <= gen.replacement_tries
                        and await asyncio.to_thread(self._replace, side)
                    ):
                        started = time.monotonic()
                        continue
                    st.status, st.error, st.error_detail = (
                        "failed",
                        voter_message(err.kind),
                        (f"{err.kind}: {err.detail}"),
                    )
                    return
        except asyncio.CancelledError:
            if self.stopping:
                st.status, st.finish_reason = "done", "stopped"
            else:
                st.status, st.error = "failed", voter_message("interrupted")
                st.error_detail = "interrupted: the server stopped while generating"
        finally:
            st.total_ms = (time.monotonic() - started) * 1000
            st.announced = True
            self.publish(
                SideDone(
                    side, st.status, st.error, "".join(st.content), "".join(st.reasoning) or None
                )
            )

    def _replace(self, side: str) -> bool:
        """Seat another drawable model on this side (first turn, before any token)."""
        st = self.sides[side]
        with session_scope(self.gen.engine) as session:
            battle = session.get(Battle, self.battle_id)
            assert battle is not None
            st.tried.add(st.endpoint_id)
            exclude = st.tried | {battle.model_a_id, battle.model_b_id}
            candidates = [(e.id, e.weight) for e in drawable_endpoints(session) if e.id]
            new_id = draw_replacement(candidates, exclude, self.gen.rng)
            if new_id is None:
                return False
            endpoint = session.get(Endpoint, new_id)
            assert endpoint is not None
            if side == "a":
                battle.model_a_id = new_id
            else:
                battle.model_b_id = new_id
            session.add(battle)
            st.endpoint_id = new_id
            st.params = self.gen.params_for(endpoint)
            # The newcomer gets its own system prompt in front of the same conversation.
            turns = [m for m in st.messages if m["role"] != "system"]
            prompt = endpoint.system_prompt
            st.messages = ([{"role": "system", "content": prompt}] if prompt else []) + turns
            st.attempts += 1
            session.execute(
                update(Answer).where(col(Answer.id) == st.answer_id).values(endpoint_id=new_id)
            )
        return True

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.gen.persist_interval)
            cancel = await asyncio.to_thread(self._save, final=None)
            if cancel and not self.stopping:
                self.stop(by_voter=True)

    def _save(self, *, final: str | None) -> bool:
        """Write changed answers and the heartbeat (and the end state); True if a stop was asked.

        Plain Core statements on one connection: this runs for every live turn every
        `persist_interval`, so it must stay cheap (ORM bulk updates cost several times more).
        """
        now = utcnow()
        # Periodic saves need not wait for the disk: the final save and the vote will.
        with begin(self.gen.engine, durable=final is not None) as conn:
            for st in self.sides.values():
                mark = (len(st.content), len(st.reasoning), st.status, st.endpoint_id)
                if final is None and mark == st.saved_mark:
                    continue
                conn.execute(
                    update(Answer).where(col(Answer.id) == st.answer_id).values(**st.values())
                )
                st.saved_mark = mark
            values: dict[str, object] = {"heartbeat_at": now}
            if final is not None:
                values["status"] = "done" if final == "ready" else "failed"
            conn.execute(update(Turn).where(col(Turn.id) == self.turn_id).values(**values))
            if final is not None:
                conn.execute(
                    update(Battle)
                    .where(col(Battle.id) == self.battle_id, col(Battle.status) == "streaming")
                    .values(status=final, updated_at=now)
                )
            cancel = conn.execute(
                select(Turn.cancel_requested).where(col(Turn.id) == self.turn_id)
            ).scalar()
            return bool(cancel)


class Generator:
    """The app's turn runner: live runs of this process, upstream clients, and the rules."""

    def __init__(
        self,
        engine: Engine,
        *,
        timeouts: Timeouts,
        persist_interval: float,
        replacement_tries: int,
        breaker_failures: int,
        breaker_pause: timedelta,
        default_max_tokens: int,
        decrypt: Callable[[str], str] | None = None,
    ) -> None:
        self.engine = engine
        self.timeouts = timeouts
        self.persist_interval = persist_interval
        self.replacement_tries = replacement_tries
        self.breaker_failures = breaker_failures
        self.breaker_pause = breaker_pause
        self.default_max_tokens = default_max_tokens
        self.decrypt = decrypt
        self.runs: dict[str, TurnRun] = {}
        self.moderator: Moderator | None = None
        self.clients: dict[tuple[str, str], AsyncOpenAI] = {}
        self.rng = random.Random()
        self.poll_interval = min(0.25, persist_interval)

    def client(self, params: CallParams) -> AsyncOpenAI:
        """The pooled client for an endpoint."""
        key = (params.base_url, params.api_key)
        if key not in self.clients:
            self.clients[key] = make_client(params.base_url, params.api_key, self.timeouts)
        return self.clients[key]

    def params_for(self, e: Endpoint) -> CallParams:
        """How to call an endpoint."""
        return CallParams(
            base_url=e.base_url,
            model=e.model,
            api_key=resolve_api_key(e, self.decrypt),
            temperature=e.temperature,
            top_p=e.top_p,
            max_tokens=e.max_tokens or self.default_max_tokens,
            system_prompt=e.system_prompt,
            extra_body=dict(e.extra_body or {}),
        )

    def start(self, new: NewTurn) -> None:
        """Generate a first turn the caller has just stored, claimed (no history to read)."""
        sides: dict[str, SideState] = {}
        for side in SIDES:
            endpoint = new.endpoints[side]
            params = self.params_for(endpoint)
            sides[side] = SideState(
                answer_id=new.answers[side],
                endpoint_id=endpoint.id or 0,
                params=params,
                messages=build_messages(params.system_prompt, [], new.prompt),
            )
        run = TurnRun(self, new.battle_id, new.turn_id, new.index, sides, new.voter_id)
        self.runs[new.battle_id] = run
        run.task = asyncio.create_task(run.run())

    async def start_stored(self, battle_id: str) -> None:
        """Generate the battle's current turn, which the caller stored already claimed."""
        turn_id, _ = await asyncio.to_thread(self._current_turn, battle_id, None)
        try:
            run = await asyncio.to_thread(self._plan, battle_id, turn_id)
        except Exception:
            await asyncio.to_thread(self._fail_unstartable, battle_id, turn_id)
            raise
        self.runs[battle_id] = run
        run.task = asyncio.create_task(run.run())

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
            self.runs[battle_id] = run
            run.task = asyncio.create_task(run.run())
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
        for client in self.clients.values():
            await client.close()
        self.clients.clear()

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
            sides: dict[str, SideState] = {}
            for side in SIDES:
                ans = by_key[(turn_id, side)]
                endpoint = session.get(Endpoint, ans.endpoint_id)
                assert endpoint is not None and ans.id is not None
                # Only role and content go back: reasoning is never part of the history.
                history = [(t.prompt, by_key[(t.id or 0, side)].content) for t in earlier]
                params = self.params_for(endpoint)
                sides[side] = SideState(
                    answer_id=ans.id,
                    endpoint_id=ans.endpoint_id,
                    params=params,
                    messages=build_messages(params.system_prompt, history, turn.prompt),
                    status="streaming",
                )
            battle = session.get(Battle, battle_id)
            assert battle is not None
            return TurnRun(self, battle_id, turn_id, turn.index, sides, battle.voter_id)

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
                    if n is None and (text or kind == "content"):
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
                    yield [SideDone(ans.side, ans.status, ans.error, ans.content, ans.reasoning)]
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
