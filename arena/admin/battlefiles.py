"""Importing battle files (LMSYS/LMArena "clean battle" records) into the arena's database.

Every record is checked (the same rule as `ratings.load_battles`, plus the optional fields'
types); the good ones go in with bulk inserts, a batch at a time, all in one transaction, so a
failure (or, with `strict`, one bad record) leaves nothing imported. A record whose
`question_id` (or, without one, whose content) is already in the database — as an imported
battle's question_id or as one of the arena's own battle ids, which its exports carry — is a
duplicate and is skipped, so a file can go round any number of times. Models the arena does
not know are added as retired endpoints: they rank, and are never drawn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlmodel import Session, col

from arena.admin.battle_images import store_record_images
from arena.admin.import_foreign_keys import drop_foreign_keys, restore_foreign_keys
from arena.admin.import_indexes import (
    drop_secondary,
    estimated_records,
    large_import,
    recreate,
    worth_rebuilding,
)
from arena.admin.import_keys import BattleIds, existing
from arena.admin.import_rows import (
    ANSWER_COLUMNS,
    BATTLE_COLUMNS,
    TURN_COLUMNS,
    VOTE_COLUMNS,
    Rows,
    add_record,
    column_defaults,
    fingerprint,
    record_times,
    time_text,
    turns_of,
)
from arena.admin.import_tuning import big_cache, gc_paused, unchecked_references
from arena.admin.quick_checks import checked_records
from arena.admin.records import PLACEHOLDER_URL
from arena.store.bulk import driver_values, insert_tuples, reserve_ids
from arena.store.tables import Answer, Battle, Counter, Endpoint, Turn, Vote, utcnow
from arena.votes.version import VOTES_VERSION
from ratings.chunks import iter_record_blocks

IMPORTED_BASE_URL = PLACEHOLDER_URL
__all__ = ["ImportReport", "export_battles", "fingerprint", "import_battles"]
#: Rows of one kind per INSERT statement sent to the driver (executemany batches them further).
_INSERT_BATCH = 5_000
Progress = Callable[[int], None]


class _Rejected(Exception):
    """Raised inside the transaction to undo it: strict mode met a bad record."""


@dataclass
class ImportReport:
    """What an import did, line by line where it matters."""

    total: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    new_models: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.imported} imported, {self.duplicates} duplicates skipped, "
            f"{len(self.rejected)} rejected of {self.total} records"
            + (f"; new models: {', '.join(self.new_models)}" if self.new_models else "")
        )


def import_battles(
    engine: Engine,
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a battle file; with `strict`, any rejected record means nothing is imported.
    `progress` is called with the characters read so far, chunk by chunk."""
    report = ImportReport()
    names: dict[str, str | None] = {}
    # PostgreSQL: one batch is written (by a thread, on this transaction's connection) while the
    # next is read and checked, which touches no database; the thread is done before the
    # connection is used again, and before the transaction ends, however it ends (the pool's
    # exit waits). SQLite writes in the caller's thread: its driver holds the GIL for most of
    # an insert, so a thread only took turns with the reading, and slowed both.
    try:
        with (
            gc_paused(),
            engine.connect() as conn,
            unchecked_references(conn),
            conn.begin(),
            big_cache(conn),
            _writer(conn) as writer,
        ):
            ids = _endpoint_ids(conn)
            prompts: dict[tuple[str, ...], Any] = {}
            battle_ids = BattleIds()
            read = 0
            writing: Future[None] | None = None
            rebuild: list[str] | None = None  # the dropped indexes' SQL (a large SQLite import)
            references: list[tuple[str, str, str]] = []  # (a large PostgreSQL import)
            for chunk, size, clean in iter_record_blocks(path):
                if rebuild is None:
                    estimate = estimated_records(os.path.getsize(path), size, len(chunk))
                    rebuild = drop_secondary(conn) if worth_rebuilding(conn, estimate) else []
                    if conn.dialect.name == "postgresql" and large_import(conn, estimate):
                        references = drop_foreign_keys(conn)
                records, checked = checked_records(
                    chunk, report.rejected, names, strict=strict, clean=clean
                )
                report.total += checked
                if strict and report.rejected:
                    raise _Rejected
                if writing is not None:
                    writing.result()
                rows = _prepare(conn, records, ids, report, prompts, battle_ids)
                writing = writer.submit(_write, conn, rows)
                read += size
                if progress is not None:
                    progress(read)
            if writing is not None:
                writing.result()
            recreate(conn, rebuild or [])
            restore_foreign_keys(conn, references)
            if report.imported:
                conn.execute(
                    update(Counter)
                    .where(col(Counter.name) == VOTES_VERSION)
                    .values(value=Counter.value + 1)
                )
    except _Rejected:
        # The transaction was rolled back: nothing of the file is in the database.
        report.imported, report.duplicates, report.new_models = 0, 0, []
    return report


def _endpoint_ids(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(col(Endpoint.id), col(Endpoint.name)))
    return {str(n): int(i or 0) for i, n in rows}


def _prepare(
    conn: Connection,
    records: list[tuple[dict[str, Any], Any]],
    ids: dict[str, int],
    report: ImportReport,
    prompts: dict[tuple[str, ...], Any],
    battle_ids: BattleIds,
) -> Rows:
    """The rows of a batch's new records (new models become endpoints here)."""
    now = utcnow()
    for obj, _ in records:
        for name in (obj["model_a"], obj["model_b"]):
            if name not in ids:
                ids[name] = _new_endpoint(conn, name, now)
                report.new_models.append(name)
    keys = [fingerprint(o) for o, _ in records]
    # The battles of the earlier batches are in the database already (this transaction's).
    known = existing(conn, keys)
    fresh = []
    for record, key in zip(records, keys, strict=True):
        if key in known:
            report.duplicates += 1
            continue
        known.add(key)
        fresh.append((record, key))
    rows = Rows(seen_prompts=prompts)
    times = record_times([obj for (obj, _), _ in fresh], time_text(now))
    new_ids = battle_ids.take(len(fresh))
    for ((obj, style), key), when, battle_id in zip(fresh, times, new_ids, strict=True):
        add_record(rows, obj, key, ids, when, battle_id, style)
    report.imported += len(fresh)
    return rows


class _Inline:
    """An executor that runs what it is given at once, in the caller's thread."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def submit(self, fn: Callable[[Connection, Rows], None], *args: Any) -> Future[None]:
        done: Future[None] = Future()
        fn(*args)
        done.set_result(None)
        return done


def _writer(conn: Connection) -> ThreadPoolExecutor | _Inline:
    if conn.dialect.name == "sqlite":
        return _Inline()
    return ThreadPoolExecutor(1, thread_name_prefix="import")


def _write(conn: Connection, rows: Rows) -> None:
    """Insert a batch's rows."""
    _insert(conn, Battle, BATTLE_COLUMNS, rows.battles)
    if rows.turns:
        turn_ids = reserve_ids(conn, _table(Turn), len(rows.turns))
        turns = [(i, *t) for i, t in zip(turn_ids, rows.turns, strict=True)]
        answers = [(i, *x) for i, pair in zip(turn_ids, rows.answers, strict=True) for x in pair]
        _insert(conn, Turn, ("id", *TURN_COLUMNS), turns)
        _insert(conn, Answer, ("turn_id", *ANSWER_COLUMNS), answers)
        if rows.images:
            # Vision records: link (and store the carried) images to their turns, few and rare.
            with Session(bind=conn) as session:
                for obj, first in rows.images:
                    n = len(turns_of(obj)[0])
                    store_record_images(session, obj, turn_ids[first : first + n])
                session.flush()
    _insert(conn, Vote, VOTE_COLUMNS, rows.votes)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _insert(
    conn: Connection, model: Any, names: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    missing = {k: v for k, v in column_defaults(model).items() if k not in names}
    if missing:
        # Columns the import does not set (e.g. added by a later migration): their defaults.
        tail = driver_values(conn, _table(model), missing)
        names = names + tuple(missing)
        rows = [(*r, *tail) for r in rows]
    for i in range(0, len(rows), _INSERT_BATCH):
        insert_tuples(conn, _table(model), names, rows[i : i + _INSERT_BATCH])


def _new_endpoint(conn: Connection, name: str, now: Any) -> int:
    endpoint = Endpoint(
        name=name,
        base_url=IMPORTED_BASE_URL,
        model=name,
        enabled=False,
        retired=True,
        source="import",
        created_at=now,
        updated_at=now,
    )
    values = endpoint.model_dump(exclude={"id"})
    new_id = conn.execute(insert(Endpoint).values(values).returning(col(Endpoint.id))).scalar_one()
    assert new_id is not None
    return int(new_id)


def export_battles(engine: Engine, out: TextIO, *, secret: str, images: bool = False) -> int:
    """Write every voted battle as a JSON line (voter ids hashed); returns how many. With
    `images`, vision battles carry their images as data: URIs (`arena.admin.export`)."""
    from arena.admin.export import export_battles as export

    return export(engine, out, secret=secret, images=images)
