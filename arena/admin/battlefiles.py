"""Importing battle files (LMSYS/LMArena "clean battle" records) into the arena's database.

Every record is checked first (the same rule as `ratings.load_battles`, plus the optional fields'
types); the good ones go in one transaction, so a failure leaves nothing half-imported. A record
whose `question_id` (or, without one, whose content) is already in the database — as an imported
battle's question_id or as one of the arena's own battle ids, which its exports carry — is a
duplicate and is skipped, so a file can go round any number of times. Models the arena does
not know are added as retired endpoints: they rank, and are never drawn.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from arena.admin.records import PLACEHOLDER_URL, messages, record_store_problem
from arena.store.engine import session_scope
from arena.store.style_columns import with_style
from arena.store.tables import Answer, Battle, Endpoint, Turn, Vote, utcnow
from arena.votes.tags import conversation_tags, prompt_hash
from arena.votes.version import bump_votes_version
from ratings.loader import iter_records, record_problem
from ratings.style import raw_from_conversations, raw_from_metadata

IMPORTED_BASE_URL = PLACEHOLDER_URL


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


def _turns(obj: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Prompts and each side's answers, from the two conversations."""
    conv_a = messages(obj.get("conversation_a")) or []
    conv_b = messages(obj.get("conversation_b")) or []
    prompts = [m["content"] for m in conv_a if m["role"] == "user"]
    answers_a = [m["content"] for m in conv_a if m["role"] == "assistant"]
    answers_b = [m["content"] for m in conv_b if m["role"] == "assistant"]
    n = len(prompts)
    pad = [""] * n
    return prompts, (answers_a + pad)[:n], (answers_b + pad)[:n]


def fingerprint(obj: dict[str, Any]) -> str:
    """The duplicate key of a record: its question_id, else a hash of what it says."""
    qid = obj.get("question_id")
    if isinstance(qid, str | int) and str(qid):
        # Cutting a long id could make two battles one; a hash of it cannot.
        text = str(qid)
        return text if len(text) <= 200 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    keys = ("model_a", "model_b", "winner", "tstamp", "judge", "conversation_a", "conversation_b")
    blob = json.dumps([obj.get(k) for k in keys], sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def read_valid(
    path: str | os.PathLike[str], report: ImportReport, *, strict: bool = False
) -> list[dict[str, Any]]:
    """The usable records of a file; the others go to the report with their line numbers.
    With `strict`, reading stops at the first bad record."""
    good: list[dict[str, Any]] = []
    names: dict[str, str | None] = {}
    for no, obj, error in iter_records(path):
        report.total += 1
        problem = error or record_problem(obj) or record_store_problem(obj, names)
        if problem:
            report.rejected.append((no, problem))
            if strict:
                break
        else:
            good.append(obj)
    return good


def import_battles(
    engine: Engine, path: str | os.PathLike[str], *, strict: bool = False
) -> ImportReport:
    """Import a battle file; with `strict`, any rejected record means nothing is imported."""
    report = ImportReport()
    records = read_valid(path, report, strict=strict)
    if strict and report.rejected:
        return report
    with session_scope(engine) as session:
        ids = {e.name: e.id for e in session.exec(select(Endpoint)).all()}
        for obj in records:
            for name in (obj["model_a"], obj["model_b"]):
                if name not in ids:
                    endpoint = Endpoint(
                        name=name,
                        base_url=IMPORTED_BASE_URL,
                        model=name,
                        enabled=False,
                        retired=True,
                        source="import",
                    )
                    session.add(endpoint)
                    session.flush()
                    ids[name] = endpoint.id
                    report.new_models.append(name)
        keys = [fingerprint(o) for o in records]
        known = _existing(session, keys)
        for obj, key in zip(records, keys, strict=True):
            if key in known:
                report.duplicates += 1
                continue
            known.add(key)
            _add_record(session, obj, key, ids)
            report.imported += 1
            if report.imported % 1000 == 0:
                session.flush()
        if report.imported:
            bump_votes_version(session)
    return report


def _existing(session: Any, keys: Iterable[str]) -> set[str]:
    """The keys that are already battles here: imported ones (by their question_id) and the
    arena's own, which an export writes with their battle id as `question_id`."""
    found: set[str] = set()
    batch = list(keys)
    for i in range(0, len(batch), 500):
        chunk = batch[i : i + 500]
        for column in (col(Battle.external_id), col(Battle.id)):
            rows = session.exec(select(column).where(column.in_(chunk))).all()
            found.update(k for k in rows if k)
    return found


def _add_record(session: Any, obj: dict[str, Any], key: str, ids: dict[str, int | None]) -> None:
    prompts, answers_a, answers_b = _turns(obj)
    a, b = ids[obj["model_a"]], ids[obj["model_b"]]
    assert a is not None and b is not None
    tstamp = obj.get("tstamp")
    when = (
        datetime.fromtimestamp(float(tstamp), UTC).replace(tzinfo=None)
        if isinstance(tstamp, int | float)
        else utcnow()
    )
    judge = str(obj.get("judge") or "import")[:64]
    anony = obj.get("anony") is not False
    battle = Battle(
        id=secrets.token_hex(12),
        voter_id=judge,
        model_a_id=a,
        model_b_id=b,
        status="voted",
        anony=anony,
        external_id=key,
        created_at=when,
        updated_at=when,
    )
    session.add(battle)
    for index, prompt in enumerate(prompts):
        turn = Turn(battle_id=battle.id, index=index, prompt=prompt, status="done", created_at=when)
        session.add(turn)
        session.flush()
        assert turn.id is not None
        for side, answers, model_id in (("a", answers_a, a), ("b", answers_b, b)):
            session.add(
                Answer(
                    turn_id=turn.id,
                    side=side,
                    endpoint_id=model_id,
                    status="done",
                    content=answers[index],
                    finish_reason="stop",
                )
            )
    meta = obj.get("conv_metadata")
    raw = raw_from_metadata(meta) if isinstance(meta, dict) else None
    if raw is None and prompts:
        # The same features `arena leaderboard --battles FILE --style-control` computes.
        raw = raw_from_conversations(obj.get("conversation_a"), obj.get("conversation_b"))
    style = [*raw[0], *raw[1]] if raw is not None else []
    tags = conversation_tags(prompts, answers_a, answers_b) if prompts else []
    for extra in (obj.get("category"), obj.get("language")):
        for tag in extra if isinstance(extra, list) else [extra]:
            if isinstance(tag, str) and tag and tag.lower() not in tags:
                tags.append(tag.lower())
    excluded = bool(obj.get("excluded"))
    counted = obj.get("counted")
    vote = Vote(
        battle_id=battle.id,
        winner=obj["winner"],
        voter_id=judge,
        model_a_id=a,
        model_b_id=b,
        anony=anony,
        leaked=bool(obj.get("leaked")),
        excluded=excluded,
        exclude_reason=str(obj.get("exclude_reason"))[:500]
        if excluded and obj.get("exclude_reason") is not None
        else None,
        counted=bool(counted) if isinstance(counted, bool) else not excluded,
        categories=tags,
        prompt_hash=prompt_hash(prompts[0]) if prompts else None,
        created_at=when,
    )
    session.add(with_style(vote, style))


def export_battles(engine: Engine, out: TextIO, *, secret: str) -> int:
    """Write every voted battle as a JSON line (voter ids hashed); returns how many."""
    from arena.admin.export import battle_records
    from arena.core.signing import voter_pseudonyms

    hash_id = voter_pseudonyms(secret).hash_id
    n = 0
    with Session(engine) as session:
        for record in battle_records(session, hash_id=hash_id):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
