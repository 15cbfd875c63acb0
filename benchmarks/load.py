"""Bounded load on loopback: C concurrent voters, each running battle → stream → vote, R times.

Everything is real and local: the fake OpenAI-compatible upstream (`python -m tests.fake_openai`)
and the arena (`uvicorn arena.asgi:app`) run as subprocesses; the arena gets a fresh SQLite file
or a fresh PostgreSQL database (created and dropped here). Afterwards every acknowledged vote is
looked up in the database: an acknowledged vote that is not there is a *lost* vote.

    python benchmarks/load.py                      # 200 voters × 2 rounds, SQLite then PostgreSQL
    python benchmarks/load.py --voters 50 --backend sqlite --workers 2

The run is bounded: C × R battles at most, and `--time-limit` seconds per backend.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._harness import fake_upstream, percentile
from tests.arena_process import ArenaProcess
from tests.databases import postgres_database

MODELS = ("bench-a", "bench-b", "bench-c", "bench-d")


@dataclass
class Results:
    """What the voters saw."""

    create: list[float] = field(default_factory=list)
    first_event: list[float] = field(default_factory=list)
    stream: list[float] = field(default_factory=list)
    vote: list[float] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    battles: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def voter(n: int, url: str, rounds: int, res: Results, start: asyncio.Event) -> None:
    """One voter with its own cookie jar, connection and address (behind a trusted proxy):
    battle → stream → vote, `rounds` times."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    ip = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=ip) as c:
        await start.wait()
        for i in range(rounds):
            try:
                t0 = time.perf_counter()
                r = await c.post("/api/battles", json={"prompt": f"Question {i}: why?"})
                res.create.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    res.error(f"create {r.status_code}")
                    continue
                battle = r.json()["battle_id"]
                res.battles += 1
                t0 = time.perf_counter()
                first: float | None = None
                end = ""
                async with c.stream("GET", f"/api/battles/{battle}/stream") as s:
                    if s.status_code != 200:
                        res.error(f"stream {s.status_code}")
                        continue
                    async for line in s.aiter_lines():
                        if line.startswith("event:") and first is None:
                            first = time.perf_counter() - t0
                        if line.startswith("data:") and end == "end":
                            end = line
                        elif line == "event: end":
                            end = "end"
                res.stream.append(time.perf_counter() - t0)
                if first is not None:
                    res.first_event.append(first)
                if '"ready"' not in end:
                    res.error("stream did not end ready")
                    continue
                t0 = time.perf_counter()
                r = await c.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
                res.vote.append(time.perf_counter() - t0)
                if r.status_code == 200:
                    res.acked.append(battle)
                else:
                    res.error(f"vote {r.status_code}")
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                res.error(type(exc).__name__)


async def sample_rss(srv: ArenaProcess, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak.append(srv.rss_bytes())
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def drive(
    srv: ArenaProcess, voters: int, rounds: int, time_limit: float
) -> tuple[Results, float, list[int], bool]:
    """Run the voters against a started server; (results, seconds, RSS samples, timed out)."""
    res = Results()
    start, stop = asyncio.Event(), asyncio.Event()
    rss: list[int] = []
    tasks = [asyncio.create_task(voter(n, srv.url, rounds, res, start)) for n in range(voters)]
    sampler = asyncio.create_task(sample_rss(srv, rss, stop))
    await asyncio.sleep(0.2)  # every client is ready; then all start at once
    t0 = time.perf_counter()
    start.set()
    _, pending = await asyncio.wait(tasks, timeout=time_limit)
    elapsed = time.perf_counter() - t0
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    stop.set()
    await sampler
    return res, elapsed, rss, bool(pending)


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """A fresh database URL for the backend, dropped afterwards (PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'load.db'}"
        return
    with postgres_database("arena_load") as url:
        yield url


def stored_votes(database_url: str, battle_ids: list[str]) -> int:
    """How many of these battles have a vote row."""
    from sqlmodel import Session, col, func, select

    from arena.store.engine import make_engine
    from arena.store.tables import Vote

    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            found = 0
            for i in range(0, len(battle_ids), 500):
                chunk = battle_ids[i : i + 500]
                found += s.exec(select(func.count()).where(col(Vote.battle_id).in_(chunk))).one()
            return found
    finally:
        engine.dispose()


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:8.0f}"


def run_backend(args: argparse.Namespace, backend: str, upstream: str) -> bool:
    """One backend's run and report; True if it met the target (no errors, no lost votes)."""
    with tempfile.TemporaryDirectory() as tmpdir, database(backend, Path(tmpdir)) as url:
        tmp = Path(tmpdir)
        models = tmp / "models.toml"
        models.write_text(
            tomli_w.dumps(
                {"models": [{"name": m, "base_url": upstream, "model": m} for m in MODELS]}
            )
        )
        env = {
            "ARENA_DATABASE_URL": url,
            "ARENA_MODELS": str(models),
            "ARENA_CONFIG": str(tmp / "none.toml"),
            "ARENA_SECRET_KEY": "load-benchmark-secret-key-0123456789abcdef",
            "ARENA_UPSTREAM_RETRIES": "0",
            "ARENA_PERSIST_INTERVAL": str(args.persist_interval),
            # Each simulated voter has its own address, as behind a reverse proxy.
            "ARENA_TRUSTED_PROXY_HEADERS": '["x-forwarded-for"]',
        }
        extra = ("--backlog", "4096", "--limit-concurrency", "10000")
        with ArenaProcess(env, workers=args.workers, extra_args=extra) as srv:
            cpu0 = srv.cpu_seconds()
            res, elapsed, rss, timed_out = asyncio.run(
                drive(srv, args.voters, args.rounds, args.time_limit)
            )
            cpu = srv.cpu_seconds() - cpu0
            rss_end = srv.rss_bytes()
        found = stored_votes(url, res.acked)

    lost = len(res.acked) - found
    errors = sum(res.errors.values()) + (1 if timed_out else 0)
    print(
        f"\n== {backend}: {args.voters} voters × {args.rounds} rounds, "
        f"{args.workers} worker(s), persist_interval {args.persist_interval}s"
    )
    print(f"wall time         {elapsed:8.1f} s{'  (TIME LIMIT HIT)' if timed_out else ''}")
    print(f"battles/s         {res.battles / elapsed:8.1f}   ({res.battles} battles)")
    print(f"votes/s           {len(res.acked) / elapsed:8.1f}   ({len(res.acked)} acknowledged)")
    print("latency (ms)          p50      p99")
    for name, values in (
        ("create", res.create),
        ("first event", res.first_event),
        ("full stream", res.stream),
        ("vote", res.vote),
    ):
        print(f"  {name:<16}{ms(values, 50)} {ms(values, 99)}")
    print(f"errors            {errors:8d}   {res.errors or ''}")
    print(f"lost votes        {lost:8d}   ({found} of {len(res.acked)} acknowledged votes stored)")
    per_battle = cpu / max(res.battles, 1) * 1000
    print(f"server CPU        {cpu:8.1f} s   ({per_battle:.0f} ms per battle)")
    print(
        f"server RSS        {max(rss, default=0) / 2**20:8.0f} MB peak, "
        f"{rss_end / 2**20:.0f} MB at the end"
    )
    return errors == 0 and lost == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voters", type=int, default=200, help="concurrent voters (C)")
    parser.add_argument("--rounds", type=int, default=2, help="battles per voter (R)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn --workers")
    parser.add_argument("--persist-interval", type=float, default=0.5)
    parser.add_argument("--token-delay", type=float, default=0.01)
    parser.add_argument("--reply-words", type=int, default=40)
    parser.add_argument("--time-limit", type=float, default=180, help="seconds per backend")
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    upstream_args = ("--token-delay", str(args.token_delay), "--reply-words", str(args.reply_words))
    ok = True
    with fake_upstream(*upstream_args) as upstream:
        for backend in backends:
            ok = run_backend(args, backend, upstream) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
