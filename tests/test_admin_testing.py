"""The admin's connection test against the loopback OpenAI-compatible server, and its advice."""

from __future__ import annotations

import httpx
import pytest

from arena.admin.testing import KeyInfo, explain
from arena.upstream.failures import UpstreamError
from tests.admin_client import AUTH, htmx, login
from tests.fake_openai import Behavior, FakeOpenAI, closed_port_url

KEY = "sk-upstream-KEY-987654"
ENV = "TEST_UPSTREAM_API_KEY"


def add(client: httpx.Client, name: str, base_url: str, model: str, **fields: object) -> None:
    r = client.post(
        "/api/admin/models",
        headers=AUTH,
        json={"name": name, "base_url": base_url, "model": model, **fields},
    )
    assert r.status_code == 201, r.text


def run_test(client: httpx.Client, name: str) -> dict[str, object]:
    r = client.post(f"/api/admin/models/{name}/test", headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_a_working_model_reports_speed_and_answer(client: httpx.Client, fake: FakeOpenAI) -> None:
    result = run_test(client, "alpha")
    assert result["ok"] is True and result["error"] is None
    assert isinstance(result["ttft_ms"], float) and result["ttft_ms"] >= 0
    assert isinstance(result["tokens_per_second"], float) and result["tokens_per_second"] > 0
    assert result["completion_tokens"] and result["tokens_estimated"] is False
    assert str(result["answer"]).startswith("Echo: ")
    request = fake.chat_requests[-1]
    assert request.model == "upstream-alpha-7b" and request.stream
    assert len(request.messages or []) == 1  # one short prompt, no history


def test_reasoning_is_shown_apart(client: httpx.Client, fake: FakeOpenAI) -> None:
    behavior = Behavior(reasoning="Let me think.", reply="Hello, blue.")
    fake.set_behavior("upstream-beta-13b", behavior)
    result = run_test(client, "beta")
    assert result["ok"] is True
    assert result["reasoning"] == "Let me think." and result["answer"] == "Hello, blue."


def test_a_key_from_the_environment(
    client: httpx.Client, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.set_behavior("upstream-keyed", Behavior(require_api_key=KEY))
    add(client, "keyed", fake.base_url, "upstream-keyed", api_key_env=ENV)
    monkeypatch.delenv(ENV, raising=False)

    result = run_test(client, "keyed")
    assert result["ok"] is False and result["error"] == "auth" and result["status"] == 401
    assert "refused the API key" in str(result["message"])
    assert f"${ENV} is not set" in str(result["hint"])

    monkeypatch.setenv(ENV, "sk-wrong-key-0000")
    result = run_test(client, "keyed")
    assert result["ok"] is False and result["error"] == "auth"
    assert f"comes from ${ENV}" in str(result["hint"])
    assert "sk-wrong-key-0000" not in str(result)

    monkeypatch.setenv(ENV, KEY)
    result = run_test(client, "keyed")
    assert result["ok"] is True, result
    assert fake.chat_requests[-1].authorization == f"Bearer {KEY}"
    assert KEY not in str(result)


def test_a_typed_key_is_stored_encrypted_and_used(
    client: httpx.Client, fake: FakeOpenAI, database_url: str
) -> None:
    fake.set_behavior("upstream-keyed", Behavior(require_api_key=KEY))
    add(client, "keyed", fake.base_url, "upstream-keyed", api_key=KEY)
    result = run_test(client, "keyed")
    assert result["ok"] is True, result
    assert fake.chat_requests[-1].authorization == f"Bearer {KEY}"
    shown = client.get("/api/admin/models/keyed", headers=AUTH).json()["api_key"]
    assert shown == {"env": None, "env_set": None, "stored": "••••7654", "in_use": "stored"}

    from sqlmodel import Session, select

    from arena.store.engine import make_engine
    from arena.store.tables import Endpoint

    engine = make_engine(database_url)
    with Session(engine) as session:
        row = session.exec(select(Endpoint).where(Endpoint.name == "keyed")).one()
        assert row.api_key_encrypted and KEY not in row.api_key_encrypted
    engine.dispose()

    # A wrong key typed over it: refused; clearing it leaves no key at all.
    r = client.patch("/api/admin/models/keyed", headers=AUTH, json={"api_key": "sk-bad-1234567890"})
    assert r.status_code == 200
    assert run_test(client, "keyed")["error"] == "auth"
    r = client.patch("/api/admin/models/keyed", headers=AUTH, json={"api_key": None})
    assert r.json()["api_key"]["stored"] is None
    assert "No key is configured" in str(run_test(client, "keyed")["hint"])


def test_an_unknown_model_id(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_behavior("upstream-missing", Behavior(status=404))
    add(client, "missing", fake.base_url, "upstream-missing")
    result = run_test(client, "missing")
    assert result["ok"] is False and result["error"] == "not_found"
    assert "Unknown model id 'upstream-missing'" in str(result["message"])
    assert f"{fake.base_url}/models" in str(result["hint"])


def test_an_unreachable_host(client: httpx.Client) -> None:
    add(client, "gone", closed_port_url(), "whatever")
    result = run_test(client, "gone")
    assert result["ok"] is False and result["error"] == "connection"
    assert "Unreachable host" in str(result["message"])


def test_a_server_error_is_reported_with_its_words(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_behavior("upstream-alpha-7b", Behavior(status=400))
    result = run_test(client, "alpha")
    assert result["ok"] is False and result["status"] == 400
    assert "HTTP 400" in str(result["detail"]) and "parameter" in str(result["hint"])


def test_the_test_button_on_the_pages(client: httpx.Client, fake: FakeOpenAI) -> None:
    csrf = login(client)
    r = client.post("/admin/models/alpha/test", headers=htmx(csrf))
    assert r.status_code == 200
    assert "Time to first token" in r.text and "tokens/s" in r.text and "Echo: " in r.text

    fake.set_behavior("upstream-beta-13b", Behavior(require_api_key=KEY))
    r = client.post("/admin/models/beta/test", headers=htmx(csrf))
    assert r.status_code == 200
    assert "refused the API key" in r.text and "No key is configured" in r.text
    # Without htmx: the model's page with the result.
    r = client.post("/admin/models/alpha/test", data={"csrf_token": csrf})
    assert r.status_code == 200 and "Time to first token" in r.text and "<html" in r.text


@pytest.mark.parametrize(
    ("base_url", "region_words"),
    [
        ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "dashscope-intl.aliyuncs.com"),
        ("https://dashscope.aliyuncs.com/compatible-mode/v1", "dashscope.aliyuncs.com"),
        ("https://dashscope-us.aliyuncs.com/compatible-mode/v1", "dashscope-us.aliyuncs.com"),
    ],
)
def test_a_model_studio_401_says_keys_are_per_region(base_url: str, region_words: str) -> None:
    err = UpstreamError("auth", "HTTP 401: Incorrect API key provided.", status=401)
    key = KeyInfo(env="DASHSCOPE_API_KEY", env_set=True, stored=False)
    message, hint = explain(err, base_url=base_url, model="qwen-plus", key=key)
    assert "Model Studio" in message and "another region" in message
    for words in ("Singapore", "dashscope-intl", "Beijing", "US", "dashscope-us"):
        assert words in hint
    assert f"This endpoint uses {region_words}" in hint
    assert "$DASHSCOPE_API_KEY" in hint


def test_other_401s_do_not_talk_about_regions() -> None:
    err = UpstreamError("auth", "HTTP 401", status=401)
    _, hint = explain(
        err,
        base_url="https://api.openai.com/v1",
        model="gpt-4.1-mini",
        key=KeyInfo(env="OPENAI_API_KEY", env_set=False, stored=False),
    )
    assert "region" not in hint and "OPENAI_API_KEY is not set" in hint
