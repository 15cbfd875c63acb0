"""Throw-away PostgreSQL databases for tests and benchmarks."""

from __future__ import annotations

import itertools
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_ADMIN = os.environ.get("ARENA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_available() -> bool:
    """Whether the PostgreSQL server answers."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def create_database(name: str) -> None:
    """Create an empty database."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    """Drop a database, closing whatever connections are left on it."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url_of(name: str) -> str:
    """The SQLAlchemy URL of a database on the PG_ADMIN server."""
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


class _Helper:
    """A thread that creates empty databases ahead of need and drops used ones, so that a test
    waits for neither: a CREATE DATABASE takes about 0.3 s, a DROP most of a second (a
    checkpoint). Creating comes first; the databases are the same fresh, empty ones."""

    AHEAD = 2  # empty databases kept ready

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.jobs: queue.PriorityQueue[tuple[int, int, str, str]] = queue.PriorityQueue()
        self.ready: queue.Queue[str | BaseException] = queue.Queue()
        self.order = itertools.count()
        self.errors: list[Exception] = []
        threading.Thread(target=self._run, name="test-databases", daemon=True).start()
        for _ in range(self.AHEAD):
            self._create_one()

    def _create_one(self) -> None:
        self.jobs.put((0, next(self.order), "create", f"{self.prefix}_{uuid.uuid4().hex[:12]}"))

    def _run(self) -> None:
        while True:
            _, _, job, name = self.jobs.get()
            try:
                if job == "create":
                    try:
                        create_database(name)
                    except Exception as exc:  # the test that takes it fails with this
                        self.ready.put(exc)
                    else:
                        self.ready.put(name)
                else:
                    try:
                        drop_database(name)
                    except Exception as exc:  # reported by wait_for_drops()
                        self.errors.append(exc)
            finally:
                self.jobs.task_done()

    def take(self) -> str:
        """A fresh, empty database (its name); another one is made ready in its place."""
        self._create_one()
        got = self.ready.get()
        if isinstance(got, BaseException):
            raise got
        return got

    def drop(self, name: str) -> None:
        self.jobs.put((1, next(self.order), "drop", name))

    def finish(self) -> None:
        """Wait for the drops; drop the databases made ready but never taken."""
        self.jobs.join()
        while not self.ready.empty():
            got = self.ready.get()
            if isinstance(got, str):
                drop_database(got)
        if self.errors:
            raise self.errors[0]


_helpers: dict[str, _Helper] = {}
_helpers_lock = threading.Lock()


def _helper(prefix: str) -> _Helper:
    with _helpers_lock:
        if prefix not in _helpers:
            _helpers[prefix] = _Helper(prefix)
        return _helpers[prefix]


def wait_for_drops() -> None:
    """Wait until every database of `postgres_database(in_background=True)` is dropped, drop the
    ones made ready ahead of need, and raise the first failure."""
    with _helpers_lock:
        helpers = list(_helpers.values())
        _helpers.clear()
    for helper in helpers:
        helper.finish()


@contextmanager
def postgres_database(prefix: str = "arena_test", *, in_background: bool = False) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (its SQLAlchemy URL), dropped afterwards.

    With `in_background`, a thread creates it ahead of need and drops it later (see `_Helper`);
    `wait_for_drops()` then waits for all of that to finish.
    """
    if in_background:
        helper = _helper(prefix)
        name = helper.take()
        try:
            yield url_of(name)
        finally:
            helper.drop(name)
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create_database(name)
    try:
        yield url_of(name)
    finally:
        drop_database(name)
