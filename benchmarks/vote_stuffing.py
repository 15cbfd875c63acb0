"""Vote stuffing at full scale: how far one attacker moves a model past the arena's defences.

3,000 honest votes, then an attacker who recognises the target by its answers: 1,000 tries from
one cookie, then 50 fresh cookies of 20 tries each, all from one IP, against the arena's default
rate limits, through a real arena server on loopback. Prints what the attacker got, what the
vote hygiene left out, how far the target moved against its 95% interval, and how far it would
have moved with every stuffed vote counted. Exits 1 if the target moved by its interval or more.
(`tests/test_integrity.py` runs the same simulation at a third of this scale.)
Run: `python benchmarks/vote_stuffing.py [--scale 1] [--database-url URL | --postgresql]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from arena.core.settings import Settings
from arena.web.app import create_app
from tests.databases import postgres_database
from tests.fake_openai import FakeOpenAI
from tests.servers import ThreadedServer
from tests.vote_stuffing import NAMES, Plan, honest_file, prepare, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1, help="run k times smaller (see Plan)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty database (default: a SQLite file)")
    where.add_argument("--postgresql", action="store_true", help="a throw-away PostgreSQL one")
    args = parser.parse_args()
    plan = Plan() if args.scale == 1 else Plan().scaled(args.scale)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = args.database_url or (
            stack.enter_context(postgres_database("arena_bench"))
            if args.postgresql
            else f"sqlite:///{tmp / 'arena.db'}"
        )
        fake = stack.enter_context(FakeOpenAI(models=tuple(NAMES.values())))
        settings = Settings(
            database_url=url,
            models=prepare(fake, tmp),
            config=tmp / "none.toml",
            htmx_source="local",
            persist_interval=0.1,
            upstream_retries=0,
            secret_key="benchmark-secret-key-0123456789abcdef",
            **plan.settings(),
        )
        print(
            f"{plan.honest} honest votes; the attacker: {plan.one_voter_tries} tries from one "
            f"cookie, then {plan.cookies} cookies × {plan.tries_per_cookie}, one IP; limits "
            f"{plan.per_voter} per voter and {plan.per_ip} per IP an hour; {url.split(':')[0]}"
        )
        started = time.perf_counter()
        with ThreadedServer(create_app(settings)) as srv:
            result = simulate(srv, plan, honest_file(tmp, plan.honest))
        print(result.report())
        print(f"took {time.perf_counter() - started:.1f} s")
    held = abs(result.moved) < result.half_width
    print("the target stayed inside its interval" if held else "THE TARGET LEFT ITS INTERVAL")
    sys.exit(0 if held else 1)


if __name__ == "__main__":
    main()
