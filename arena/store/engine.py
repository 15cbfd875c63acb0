"""Database engine, sessions and the schema migrations that `arena serve` runs at start."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from psycopg.types.datetime import TimestamptzLoader
from sqlalchemy import Connection, Engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, create_engine, select

MIGRATIONS = Path(__file__).parent / "migrations"

P = ParamSpec("P")
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, full fsync on commit and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=40,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers run beside the one writer. synchronous=FULL fsyncs the WAL on every
            # commit, so an acknowledged vote survives a killed process *and* a power cut; NORMAL
            # would survive only the former. The one hot write path, the periodic saves of
            # streaming answers, opts out per transaction (`begin(durable=False)`).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "checkin")
        def _restore_full_sync(dbapi_conn: Any, record: Any) -> None:
            # A connection that did a non-durable write goes back to the pool fsyncing again.
            if record.info.pop(_RELAXED, False) and dbapi_conn is not None:
                dbapi_conn.execute("PRAGMA synchronous=FULL")

        return engine
    # A worker touches the database only from its thread pools, in short transactions: 20
    # connections are plenty, and keep `workers × 20` under PostgreSQL's max_connections (100).
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _pg_naive_utc(dbapi_conn: Any, _record: Any) -> None:
        # The tables hold naive UTC datetimes (`tables.utcnow`), but databases made by the first
        # schema have `timestamptz` columns: read those back as naive UTC, and read naive
        # parameters as UTC, so that Python comparisons (a paused model's `paused_until`) and
        # SQL ones (heartbeats) agree whatever the server's TimeZone is.
        dbapi_conn.adapters.register_loader("timestamptz", _NaiveUTCLoader)
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine


class _NaiveUTCLoader(TimestamptzLoader):
    """psycopg loader: `timestamptz` values as naive datetimes in UTC."""

    def load(self, data: Any) -> datetime:
        value = super().load(data)
        return value.astimezone(UTC).replace(tzinfo=None)


_RELAXED = "arena_relaxed_sync"


@contextlib.contextmanager
def begin(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """A Core transaction; `durable=False` commits without waiting for the disk.

    For writes that a later durable commit supersedes, such as a streaming answer's periodic
    saves: still atomic and safe from a killed process, but a power cut may undo the last ones.
    SQLite: synchronous=NORMAL for this commit (the next FULL commit's fsync of the WAL covers
    it too); PostgreSQL: synchronous_commit=off for this transaction. Without it each save is an
    fsync, and with a few hundred live streams those fsyncs, not the CPU, would set the pace.
    """
    with engine.begin() as conn:
        if not durable:
            if conn.dialect.name == "sqlite":
                conn.info[_RELAXED] = True
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            elif conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        yield conn


# PostgreSQL's "try the transaction again" codes: deadlock_detected, serialization_failure.
_RETRYABLE = frozenset({"40P01", "40001"})


def retrying(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a transaction function again (up to twice) when PostgreSQL aborted it as a deadlock
    or a serialization failure: those are the database's answer to a race, not to bad data."""
    for attempt in range(3):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if attempt == 2 or getattr(exc.orig, "sqlstate", None) not in _RETRYABLE:
                raise
    raise AssertionError("unreachable")


async def in_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`asyncio.to_thread` for background tasks: cancelling the caller waits for the thread.

    A thread cannot be interrupted. A task cancelled at shutdown that let its thread run on would
    have it use the engine after the app disposed of it, and leave a connection open that nobody
    closes (a new pool's, made for that late checkout).
    """
    work = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await work
        raise


@contextlib.contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A short transaction: committed on success, rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Serialise start-up work between workers starting at once (advisory lock, or a lock file).

    Not re-entrant: take it once at a time (migrate() takes and releases it itself)."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(7245001)"))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(7245001)"))
                conn.commit()
    elif url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        lock_path = Path(str(url.database) + ".migrate.lock")
        with lock_path.open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        yield


def run_alembic(engine: Engine, action: str, revision: str) -> None:
    """Run an Alembic command (`upgrade`, `downgrade`) to `revision` in one transaction.

    On SQLite a batch migration rebuilds a table (copy, drop, rename), and with foreign keys
    enforced the drop of a table other rows point at fails: SQLite's own recipe is to turn them
    off around the change, outside the transaction (inside one the pragma does nothing)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                getattr(command, action)(cfg, revision)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    with startup_lock(engine):
        run_alembic(engine, "upgrade", "head")
        with engine.begin() as conn:
            # Shared counters exist from the start, so bumping them is a plain UPDATE.
            from arena.store.tables import Counter

            if (
                conn.execute(select(col(Counter.name)).where(col(Counter.name) == "votes")).first()
                is None
            ):
                conn.execute(insert(Counter).values(name="votes", value=0))
