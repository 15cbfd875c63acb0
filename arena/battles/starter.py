"""New battles of one worker, started in batches.

A battle start is two short transactions (check the limits and draw; store) around asking both
models. One at a time, fifty prompts arriving together made fifty of each, queued on the thread
pool and on the GIL. Here every start that arrives while the previous batch is being drawn joins
the next batch: one transaction draws them all, both models of each are asked at once, and one
transaction stores them while the models think (the next batch is drawn meanwhile). A lone
prompt is a batch of one and goes through exactly as before.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import Engine

from arena.battles.runner import TurnRunner
from arena.battles.store import BattleError, Draw, StartRequest, draw_battles, store_battles
from arena.battles.turn import TurnRun
from arena.core.rules import Limits, SamplingRules
from arena.matchmaking.pairing import PairingCache

MAX_BATCH = 64

Waiting = tuple[StartRequest, "asyncio.Future[str]"]  # a request and the voter's answer to give
Started = tuple[StartRequest, "asyncio.Future[str]", Draw, TurnRun]


class BattleStarter:
    """Starts this worker's new battles (`start`), batching those that arrive together."""

    def __init__(
        self,
        engine: Engine,
        runner: TurnRunner,
        *,
        limits: Limits,
        sampling: SamplingRules,
        pairing: PairingCache | None = None,
    ) -> None:
        self.engine = engine
        self.runner = runner
        self.limits = limits
        self.sampling = sampling
        self.pairing = pairing
        self._queue: list[Waiting] = []
        self._drawing: asyncio.Task[None] | None = None
        self._storing: set[asyncio.Task[None]] = set()
        # Battles let through by the limits but not stored yet, by ("voter_id"|"client_ip", value):
        # the next batch's limits count them too.
        self._pending: Counter[tuple[str, str]] = Counter()

    async def start(self, request: StartRequest) -> str:
        """Draw, start and store a battle; returns its id. Raises the request's BattleError
        (429 over a limit, 409 without two models) or the database's error."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if self._drawing is None or self._drawing.done():
            self._drawing = asyncio.create_task(self._draw_batches())
        return await future

    async def _draw_batches(self) -> None:
        while self._queue:
            batch = [(r, f) for r, f in self._queue[:MAX_BATCH] if not f.done()]
            del self._queue[:MAX_BATCH]
            if batch:
                await self._draw_batch(batch)

    async def _draw_batch(self, batch: list[Waiting]) -> None:
        try:
            draws = await asyncio.to_thread(
                draw_battles,
                self.engine,
                [request for request, _ in batch],
                limits=self.limits,
                sampling=self.sampling,
                pairing=self.pairing,
                pending=dict(self._pending),
            )
        except Exception as exc:  # the database: every request of the batch gets the error
            for _, future in batch:
                _fail(future, exc)
            return
        started: list[Started] = []
        for (request, future), draw in zip(batch, draws, strict=True):
            if isinstance(draw, BattleError):
                _fail(future, draw)
                continue
            run = self.runner.start(draw, request.voter_id, request.prompt, request.images)
            started.append((request, future, draw, run))
            self._pending.update(_keys(request))
        if started:
            task = asyncio.create_task(self._store(started))
            self._storing.add(task)
            task.add_done_callback(self._storing.discard)

    async def _store(self, started: list[Started]) -> None:
        try:
            stored = await asyncio.to_thread(
                store_battles, self.engine, [(draw, request) for request, _, draw, _ in started]
            )
        except BaseException as exc:
            # Nothing was stored (one transaction): stop the models, and each voter gets the error.
            for _, future, _, run in started:
                run.abandon()
                _fail(future, exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            for request, *_ in started:
                self._pending.subtract(_keys(request))
            self._pending = +self._pending  # drop the zeros
        for (_, future, draw, run), (turn_id, answers) in zip(started, stored, strict=True):
            run.bind(turn_id, answers)
            if not future.done():
                future.set_result(draw.battle_id)

    async def shutdown(self) -> None:
        """Let the batches under way finish (the server takes no new requests by now)."""
        tasks = [t for t in (self._drawing, *self._storing) if t is not None]
        await asyncio.gather(*tasks, return_exceptions=True)


def _keys(request: StartRequest) -> Iterable[tuple[str, str]]:
    yield ("voter_id", request.voter_id)
    if request.client_ip:
        yield ("client_ip", request.client_ip)


def _fail(future: asyncio.Future[str], exc: BaseException) -> None:
    if not future.done():  # its request may have gone (the client disconnected)
        future.set_exception(exc)
