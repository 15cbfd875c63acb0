"""Upstream replies the arena does not expect fail the side as `protocol`, visibly to everyone."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Answer, Endpoint
from arena.upstream.failures import voter_message
from tests.conftest import read_events
from tests.fake_openai import Behavior, FakeOpenAI

DEEP = "[" * 200_000 + "]" * 200_000
DEEP_OBJECT = '{"a":' * 200_000 + "1" + "}" * 200_000

ODD_REPLIES = {
    "plain: no choices": Behavior(raw_json='{"choices": []}'),
    "plain: deeply nested": Behavior(raw_json='{"choices": ' + DEEP + "}"),
    "plain: null message": Behavior(raw_json='{"choices": [{"message": null}]}'),
    "plain: no message": Behavior(raw_json='{"choices": [{"finish_reason": "stop"}]}'),
    "plain: not an object": Behavior(raw_json="[1, 2]"),
    "stream: chunks without choices for ever": Behavior(
        raw_chunks=('{"id": "x", "choices": []}',), raw_repeat=True
    ),
    "stream: tokens then empty chunks for ever": Behavior(
        raw_chunks=(
            '{"choices": [{"index": 0, "delta": {"content": "Hi"}}]}',
            '{"choices": [{"index": 0, "delta": {}}]}',
        ),
        raw_repeat=True,
    ),
    "stream: deeply nested chunk": Behavior(raw_chunks=(DEEP_OBJECT,)),
    "stream: choice not an object": Behavior(raw_chunks=('{"choices": ["oops"]}',)),
}


@pytest.mark.parametrize("behavior", ODD_REPLIES.values(), ids=ODD_REPLIES.keys())
def test_odd_reply_fails_the_side_as_protocol(
    client: httpx.Client,
    fake: FakeOpenAI,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    behavior: Behavior,
) -> None:
    fake.set_default(behavior)
    r = client.post("/api/battles", json={"prompt": "Hello"})
    assert r.status_code == 201, r.text
    battle = r.json()["battle_id"]
    with caplog.at_level(logging.WARNING, logger="arena"):
        events = read_events(client, f"/api/battles/{battle}/stream")
    assert events[-1] == ("end", json.dumps({"status": "failed"}))
    done = [json.loads(d) for n, d in events if n == "done"]
    assert {d["error"] for d in done} == {voter_message("protocol")}

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            stored = session.exec(select(Answer)).all()
            assert {a.status for a in stored} == {"failed"}
            assert all((a.error_detail or "").startswith("protocol:") for a in stored)
            endpoints = session.exec(select(Endpoint)).all()
            assert [e.consecutive_failures for e in endpoints] == [1, 1]
    finally:
        engine.dispose()

    warnings = [
        rec
        for rec in caplog.records
        if rec.name.startswith("arena") and rec.levelno >= logging.WARNING
    ]
    assert len(warnings) == 2, [rec.getMessage() for rec in warnings]
    assert all("protocol" in rec.getMessage() and rec.exc_info is None for rec in warnings)
