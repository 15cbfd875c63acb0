"""What the arena adds to streaming: time to first token and throughput, against reading direct.

N concurrent battles (default 50) through a real arena server, each opening two upstream streams on
a loopback OpenAI-compatible server that emits tokens at a fixed rate; compared with 2·N direct
streams read by the openai client. Run: `python benchmarks/stream_overhead.py [--battles 50]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
import openai

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._harness import arena_process, fake_upstream, percentile


async def direct(base_url: str, n: int, words: int) -> tuple[list[float], list[float]]:
    """TTFT (ms) and tokens/s of n concurrent streams read with the openai client."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    # Warm the client's connection pool the way the arena's is warm when it is measured.
    for _ in range(2):
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )

    async def one() -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        tokens = 0
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                tokens += 1
                first = first or time.perf_counter()
        end = time.perf_counter()
        assert first is not None
        return (first - t0) * 1000, tokens / (end - first)

    results = await asyncio.gather(*(one() for _ in range(n)))
    await client.close()
    return [r[0] for r in results], [r[1] for r in results]


async def through_arena(url: str, n: int) -> tuple[list[float], list[float], int]:
    """TTFT (ms, from submitting the prompt) and tokens/s per side of n concurrent battles."""
    # Every voter has the page open already (client, connection and cookie exist): start together.
    clients = [httpx.AsyncClient(base_url=url, timeout=120) for _ in range(n)]
    await asyncio.gather(*(c.get("/api/health") for c in clients))
    go = asyncio.Event()

    async def one(c: httpx.AsyncClient) -> tuple[list[float], list[float], int]:
        await go.wait()
        t0 = time.perf_counter()
        r = await c.post("/api/battles", json={"prompt": "hi"})
        r.raise_for_status()
        battle = r.json()["battle_id"]
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        tokens = {"a": 0, "b": 0}
        errors = 0
        event = ""
        async with c.stream("GET", f"/api/battles/{battle}/stream") as s:
            async for line in s.aiter_lines():
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
                    errors += json.loads(line[5:])["status"] != "ready"
        ttft = [(first[s] - t0) * 1000 for s in first]
        # Tokens per second of each side, from its first token to its last.
        rate = [tokens[s] / max(last[s] - first[s], 1e-3) for s in first]
        return ttft, rate, errors

    tasks = [asyncio.create_task(one(c)) for c in clients]
    await asyncio.sleep(0.2)
    go.set()
    results = await asyncio.gather(*tasks)
    await asyncio.gather(*(c.aclose() for c in clients))
    ttft = [t for r in results for t in r[0]]
    rate = [t for r in results for t in r[1]]
    return ttft, rate, sum(r[2] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--battles", type=int, default=50)
    parser.add_argument("--words", type=int, default=100, help="tokens per answer")
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument("--database-url", help="the arena's database (default: a temp SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="arena worker processes")
    args = parser.parse_args()
    n = args.battles
    with fake_upstream(
        "--token-delay",
        str(args.token_delay),
        "--reply-words",
        str(args.words),
        "--first-token-delay",
        "0.05",
    ) as base:
        d_ttft, d_rate = asyncio.run(direct(base, 2 * n, args.words))
        models = {"alpha": "m1", "beta": "m2"}
        with arena_process(base, models, args.database_url, args.workers) as (url, _):
            asyncio.run(through_arena(url, 2))  # warm up connections and code paths
            a_ttft, a_rate, errors = asyncio.run(through_arena(url, n))
    print(
        f"stream_overhead: {n} concurrent battles ({2 * n} upstream streams), "
        f"{args.words} tokens at {1 / args.token_delay:.0f} tok/s, first token after 50 ms"
    )
    for label, ttft, rate in (("direct", d_ttft, d_rate), ("arena ", a_ttft, a_rate)):
        print(
            f"  {label}   TTFT p50 {percentile(ttft, 50):7.1f} ms  "
            f"p99 {percentile(ttft, 99):7.1f} ms   throughput {statistics.mean(rate):6.1f} tok/s"
        )
    print(f"  failed battles through the arena: {errors}")
    print(
        f"  added    TTFT p50 {percentile(a_ttft, 50) - percentile(d_ttft, 50):+7.1f} ms  "
        f"p99 {percentile(a_ttft, 99) - percentile(d_ttft, 99):+7.1f} ms   "
        f"throughput ratio {statistics.mean(a_rate) / statistics.mean(d_rate):.3f}"
    )


if __name__ == "__main__":
    main()
