"""One turn being generated: both upstream streams at once, fanned out to live followers, saved
every `persist_interval` seconds and at the end. The worker's `TurnRunner` starts these runs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from arena.battles.context import RunContext
from arena.battles.events import (
    FRAME_SECONDS,
    KEEPALIVE_SECONDS,
    Event,
    Ping,
    SideDone,
    TextEvent,
    TurnEnd,
)
from arena.battles.saves import SideState, fill_usage, save_end
from arena.battles.seats import replace_seat
from arena.battles.side_report import measure_side, upstream_failure
from arena.battles.store import (
    SIDES,
)
from arena.core import metrics
from arena.store import breaker
from arena.store.engine import in_thread
from arena.upstream.client import Delta
from arena.upstream.failures import voter_message
from arena.upstream.stream import stream_answer

log = logging.getLogger(__name__)

# What the voter reads under an answer the arena cut at `max_answer_chars` (it still counts).
CUT_MESSAGE = "This answer was cut: it reached the arena's length limit."


class TurnRun:
    """One turn being generated in this process."""

    def __init__(
        self,
        ctx: RunContext,
        battle_id: str,
        turn_id: int,
        index: int,
        sides: dict[str, SideState],
        voter_id: str,
        *,
        stored: bool = True,
    ) -> None:
        self.ctx, self.battle_id, self.turn_id, self.index = ctx, battle_id, turn_id, index
        self.sides = sides
        self.voter_id = voter_id
        self.subscribers: set[asyncio.Queue[Event]] = set()
        self.ended: TurnEnd | None = None
        self.stopping = False
        self.side_tasks: dict[str, asyncio.Task[None]] = {}
        self.task: asyncio.Task[None] | None = None
        self.finishing = False
        # A new battle's rows are stored while its models already work (`bind` or `abandon`);
        # anything that writes to the database waits for that first.
        self.settled = asyncio.Event()
        self.abandoned = False
        if stored:
            self.settled.set()

    def bind(self, turn_id: int, answers: dict[str, int]) -> None:
        """The battle is stored: these are its turn's and answers' ids."""
        self.turn_id = turn_id
        for side, answer_id in answers.items():
            self.sides[side].answer_id = answer_id
        self.settled.set()

    def abandon(self) -> None:
        """The battle could not be stored: stop both models and write nothing."""
        self.abandoned = True
        self.settled.set()
        self.stop(by_voter=False)

    @property
    def stored(self) -> bool:
        """Whether the battle's rows exist, so that the run may write to them."""
        return self.settled.is_set() and not self.abandoned

    async def _stored(self) -> bool:
        """Wait until the battle's rows exist (True) or its start was abandoned (False)."""
        await self.settled.wait()
        return not self.abandoned

    def launch(self) -> None:
        """Ask both models now, and run the turn to its end in a task of its own."""
        for side in SIDES:
            self.side_tasks[side] = asyncio.create_task(self._run_side(side))
        self.task = asyncio.create_task(self.run())

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
            if st.content:  # no text yet: nothing to send (a client times the first token)
                out.append(TextEvent(side, "content", "".join(st.content), replace=True))
            if st.announced:
                out.append(
                    SideDone(
                        side,
                        st.status,
                        st.error,
                        "".join(st.content),
                        "".join(st.reasoning) or None,
                        st.finish_reason == "stopped",
                    )
                )
        if self.ended:
            out.append(self.ended)
        return out

    async def follow(self) -> AsyncIterator[list[Event]]:
        """The turn's events from now on, starting with a snapshot, in batches.

        Whatever queued up while the previous batch was being written goes out in one write, and
        once both sides show text a batch gathers for FRAME_SECONDS: a busy server sends fewer,
        larger frames instead of falling behind token by token.
        """
        q: asyncio.Queue[Event] = asyncio.Queue()
        snapshot = self.snapshot()  # taken and subscribed with no await between: nothing is lost
        self.subscribers.add(q)
        showing: set[str] = set()  # sides whose first text (or end) this follower has had
        try:
            batch = snapshot
            while True:
                if batch:  # (a snapshot before any text is empty)
                    yield batch
                if batch and isinstance(batch[-1], TurnEnd):  # (as an ended turn's snapshot does)
                    return
                showing.update(
                    ev.side
                    for ev in batch
                    if isinstance(ev, SideDone) or (isinstance(ev, TextEvent) and ev.text)
                )
                if len(showing) == len(SIDES):  # a first token is never held back
                    await asyncio.sleep(FRAME_SECONDS)
                try:
                    batch = [await asyncio.wait_for(q.get(), KEEPALIVE_SECONDS)]
                except TimeoutError:
                    batch = [Ping()]
                while not q.empty():
                    batch.append(q.get_nowait())
        finally:
            self.subscribers.discard(q)

    async def run(self) -> None:
        """Wait for both sides (the worker saves their progress meanwhile), then save the end
        and announce it."""
        try:
            await asyncio.gather(*self.side_tasks.values(), return_exceptions=True)
            if self.ctx.moderator is not None and all(
                s.status == "done" for s in self.sides.values()
            ):
                await self._moderate()
        finally:
            self.finishing = True  # the worker's progress saver leaves it to the final save
            status = "ready" if all(s.status == "done" for s in self.sides.values()) else "failed"
            try:
                if await asyncio.shield(self._stored()):
                    await in_thread(
                        save_end, self.ctx.engine, self.battle_id, self.turn_id, self.sides, status
                    )
            except Exception:
                log.exception("battle %s: saving the end of its turn failed", self.battle_id)
                # Not "ready": the database still says streaming, so a vote would be refused;
                # the orphan sweep marks the turn failed once its heartbeats stop.
                status = "failed"
                raise
            finally:
                self.ended = TurnEnd(status)
                self.publish(self.ended)
                self.ctx.on_end(self.battle_id)

    async def _moderate(self) -> None:
        """Check both answers with the moderation hook; a flagged one fails the battle."""
        moderator = self.ctx.moderator
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
        ctx = self.ctx
        started = time.monotonic()
        try:
            while True:
                first = True
                try:
                    client = ctx.upstreams.client(st.params)
                    async for item in stream_answer(
                        client,
                        st.params,
                        st.messages,
                        ctx.upstreams.timeouts,
                        max_chars=ctx.rules.max_answer_chars,
                    ):
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
                            st.error_detail = "; ".join(item.notes) or None
                            if item.truncated:
                                st.error = CUT_MESSAGE
                            st.prompt_tokens = item.prompt_tokens
                            st.completion_tokens = item.completion_tokens
                            fill_usage(st)
                    st.status = "done"
                    st.completed = True  # the final save resets the model's failure count
                    return
                except Exception as exc:  # whatever went wrong, the side ends
                    err = upstream_failure(self.battle_id, side, st.endpoint_id, exc)
                    metrics.FAILURES.labels(st.params.name, err.kind).inc()
                    if not await self._stored():  # abandoned: nothing to record
                        st.status = "failed"
                        return
                    # A side's task is cancelled at shutdown: its thread must end before the
                    # engine is disposed of, so these go through the guarded `in_thread`.
                    await in_thread(
                        breaker.record_failure,
                        ctx.engine,
                        st.endpoint_id,
                        err.detail,
                        ctx.rules.breaker_failures,
                        ctx.rules.breaker_pause,
                    )
                    # Nothing was shown yet: another model takes the seat unnoticed.
                    if (
                        first
                        and self.index == 0
                        and st.attempts <= ctx.rules.replacement_tries
                        and await in_thread(replace_seat, ctx, self.battle_id, side, st)
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
            if st.content or st.reasoning:
                fill_usage(st)  # a stopped or cut answer was paid for too
            st.announced = True
            measure_side(st, first_turn=self.index == 0)
            self.publish(
                SideDone(
                    side,
                    st.status,
                    st.error,
                    "".join(st.content),
                    "".join(st.reasoning) or None,
                    st.finish_reason == "stopped",
                )
            )
