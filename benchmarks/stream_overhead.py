"""What the arena adds to streaming: time to first token and throughput, against reading direct.

N concurrent battles (default 50) through a real arena server, each opening two upstream streams on
a loopback OpenAI-compatible server that emits tokens at a fixed rate, compared with the same 2·N
streams read directly by the openai client. Two traffic shapes, each run both ways:

- **steady**: N voters each run battles back to back, their first starts spread over one answer's
  duration, so N battles are in flight at every moment (about N / 2 s new ones per second). Only
  battles started once all voters are in, and before the first finishes its last round, count.
- **burst**: all N voters submit their prompt at the same instant (the worst case: N battle starts
  queue on the CPU at once).

Each mode runs several trials (steady `--trials`, default 3; burst `--burst-trials`, default 7),
direct then through the arena in turns, with the arena and the upstream kept running; the
headline is the median of the trials' figures. A burst trial is 50 samples that queue on the
upstream for some 100 ms, and its direct and arena TTFT each move by tens of ms from one trial
to the next: hence more of them, and the mean's 95% interval to show how little they resolve.

Run: `python benchmarks/stream_overhead.py [--battles 50] [--mode both|steady|burst] [--workers N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._harness import arena_process, cpu_speed, fake_upstream
from benchmarks.stream_report import Sample, Trial, report
from tests.arena_process import cpu_seconds, family


@dataclass
class Shape:
    """How the N voters start: together (burst) or spread over `spread` seconds (steady)."""

    voters: int
    rounds: int
    spread: float  # 0 for a burst

    def offset(self, voter: int) -> float:
        return self.spread * voter / self.voters

    def counts(self, started: float) -> bool:
        """Whether a battle started `started` s after the run began is measured."""
        if self.spread == 0:
            return True
        return self.spread <= started <= self.spread * (self.rounds - 1)


async def run_voters(shape: Shape, battle: Callable[[int], Awaitable[Sample]]) -> list[Sample]:
    """Run every voter's rounds; returns the samples that count."""
    t0 = time.perf_counter()
    kept: list[Sample] = []

    async def voter(i: int) -> None:
        await asyncio.sleep(shape.offset(i))
        for _ in range(shape.rounds):
            started = time.perf_counter() - t0
            sample = await battle(i)
            if shape.counts(started):
                kept.append(sample)

    await asyncio.gather(*(voter(i) for i in range(shape.voters)))
    return kept


async def direct(base_url: str, shape: Shape) -> list[Sample]:
    """Each voter reads two streams at once with the openai client, as a battle would.

    The client reads the way the arena does (the SDK's aiohttp transport, chunks as dicts): on
    its default transport, parsing every chunk into a model costs the client so much CPU that
    its own time to first token would rise and flatter the arena.
    """
    client = openai.AsyncOpenAI(
        base_url=base_url, api_key="x", max_retries=0, http_client=openai.DefaultAioHttpClient()
    )
    # Warm the client's connection pool the way the arena's is warm when it is measured.
    await asyncio.gather(
        *(
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            for _ in range(4)
        )
    )

    async def side(t0: float) -> tuple[float, float]:
        first = None
        tokens = 0
        async with client.chat.completions.with_streaming_response.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        ) as response:
            async for chunk in await response.parse(to=openai.AsyncStream[dict[str, Any]]):
                choices = chunk.get("choices")
                if choices and choices[0]["delta"].get("content"):
                    tokens += 1
                    first = first or time.perf_counter()
        end = time.perf_counter()
        assert first is not None
        return (first - t0) * 1000, tokens / (end - first)

    async def pair(_: int) -> Sample:
        t0 = time.perf_counter()
        results = await asyncio.gather(side(t0), side(t0))
        return Sample([r[0] for r in results], [r[1] for r in results])

    try:
        return await run_voters(shape, pair)
    finally:
        await client.close()


async def through_arena(url: str, shape: Shape) -> list[Sample]:
    """TTFT (ms, from submitting the prompt) and tokens/s per side of each voter's battles."""
    # Every voter has the page open already (session, connection and cookie exist).
    # (unsafe: the jar keeps cookies of an IP address such as 127.0.0.1)
    sessions = [
        aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        for _ in range(shape.voters)
    ]
    for s in sessions:
        async with s.get("/api/health") as r:
            r.raise_for_status()

    async def battle(i: int) -> Sample:
        s = sessions[i]
        t0 = time.perf_counter()
        async with s.post("/api/battles", json={"prompt": "hi"}) as r:
            r.raise_for_status()
            battle_id = (await r.json())["battle_id"]
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        tokens = {"a": 0, "b": 0}
        failed = 0
        event = ""
        async with s.get(f"/api/battles/{battle_id}/stream") as r:
            r.raise_for_status()
            async for raw in r.content:
                line = raw.decode()
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "delta":
                    d = json.loads(line[5:])
                    if d["kind"] == "content" and d["text"]:
                        now = time.perf_counter()
                        first.setdefault(d["side"], now)
                        last[d["side"]] = now
                        tokens[d["side"]] += len(d["text"].split())
                elif line.startswith("data:") and event == "end":
                    failed += json.loads(line[5:])["status"] != "ready"
        return Sample(
            [(first[s] - t0) * 1000 for s in first],
            # Tokens per second of each side, from its first token to its last.
            [tokens[s] / max(last[s] - first[s], 1e-3) for s in first],
            failed,
        )

    try:
        return await run_voters(shape, battle)
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--battles", type=int, default=50, help="battles in flight at once")
    parser.add_argument("--mode", choices=("both", "steady", "burst"), default="both")
    parser.add_argument("--rounds", type=int, default=4, help="battles per voter (steady)")
    parser.add_argument("--trials", type=int, default=3, help="direct/arena pairs, steady")
    parser.add_argument(
        "--burst-trials", type=int, default=7, help="direct/arena pairs, burst (short, noisy)"
    )
    parser.add_argument("--words", type=int, default=100, help="tokens per answer")
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument("--first-token-delay", type=float, default=0.05)
    parser.add_argument("--database-url", help="the arena's database (default: a temp SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="arena worker processes")
    args = parser.parse_args()
    n = args.battles
    answer_seconds = args.first_token_delay + args.words * args.token_delay
    shapes = {
        "steady": Shape(n, max(args.rounds, 3), answer_seconds),
        "burst": Shape(n, 1, 0.0),
    }
    modes = ["steady", "burst"] if args.mode == "both" else [args.mode]
    before = cpu_speed()
    print(
        f"stream_overhead: {n} concurrent battles ({2 * n} upstream streams), "
        f"{args.words} tokens at {1 / args.token_delay:.0f} tok/s, "
        f"first token after {args.first_token_delay * 1000:.0f} ms, {args.workers} worker(s)"
    )
    with fake_upstream(
        *("--token-delay", str(args.token_delay), "--reply-words", str(args.words)),
        *("--first-token-delay", str(args.first_token_delay)),
    ) as base:
        models = {"alpha": "m1", "beta": "m2"}
        # Every voter here comes from 127.0.0.1: a per-IP limit that is checked but never reached.
        limit = {"ARENA_BATTLES_PER_IP_PER_HOUR": "1000000"}
        with arena_process(base, models, args.database_url, args.workers, **limit) as (url, proc):
            asyncio.run(through_arena(url, Shape(2, 1, 0.0)))  # warm up connections and code

            def trial(shape: Shape) -> Trial:
                # Direct and through the arena in turns, so both meet the same machine.
                direct_samples = asyncio.run(direct(base, shape))
                pids = family(proc.pid)
                cpu, wall = cpu_seconds(pids), time.perf_counter()
                arena_samples = asyncio.run(through_arena(url, shape))
                cores = (cpu_seconds(pids) - cpu) / (time.perf_counter() - wall)
                return Trial(direct_samples, arena_samples, cores)

            for m in modes:
                trials = args.trials if m == "steady" else args.burst_trials
                report(m, [trial(shapes[m]) for _ in range(trials)])
    print(f"  CPU speed check, before / after: {before:.1f} / {cpu_speed():.1f} ms")


if __name__ == "__main__":
    main()
