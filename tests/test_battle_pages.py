"""The blind battle through the HTML routes (htmx fragments, plain forms), anonymity, XSS."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import MODELS, ArenaServer, read_events
from tests.fake_openai import Behavior, FakeOpenAI

HX = {"HX-Request": "true"}


def csrf(client: httpx.Client) -> str:
    page = client.get("/")
    m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert m, page.text
    return m.group(1)


def battle_id_of(html: str) -> str:
    m = re.search(r'data-battle="([0-9a-f]+)"', html)
    assert m, html
    return m.group(1)


def test_battle_through_htmx_fragments(client: httpx.Client, fake: FakeOpenAI) -> None:
    # The answers start streaming as the battle is created: hold their first token back so they
    # cannot be complete before the page is rendered (they were, once, on a loaded machine).
    fake.set_default(Behavior(first_token_delay=1.0))
    token = csrf(client)
    headers = {**HX, "X-CSRF-Token": token}
    r = client.post("/battles", data={"prompt": "Name a *river*"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["vary"].startswith("HX-Request")
    battle = battle_id_of(r.text)
    assert f'sse-connect="/battles/{battle}/events"' in r.text
    assert "Model A" in r.text and "Model B" in r.text
    # Vote buttons are there but disabled until both answers are complete.
    assert re.search(r'value="model_a"\s+disabled', r.text)

    events = read_events(client, f"/battles/{battle}/events")
    names = [n for n, _ in events]
    assert {"a-done", "b-done"} <= set(names) and names[-1] == "end"
    done_a = dict(events)["a-done"]
    assert "Echo: Name a <em>river</em>" in done_a  # rendered markdown once complete
    end = dict(events)["end"]
    assert 'value="model_a" disabled' not in end and 'value="model_a"' in end
    assert "followup" in end

    r = client.post(f"/battles/{battle}/turns", data={"prompt": "And a lake?"}, headers=headers)
    assert r.status_code == 200, r.text
    assert "And a lake?" in r.text and 'hx-swap-oob="true"' in r.text
    events = read_events(client, f"/battles/{battle}/events")
    assert events[-1][0] == "end"

    r = client.post(f"/battles/{battle}/vote", data={"winner": "tie"}, headers=headers)
    assert r.status_code == 200, r.text
    for name in MODELS:
        assert name in r.text
    # The whole page, reloaded, shows both turns and the names.
    page = client.get(f"/battles/{battle}").text
    assert "And a lake?" in page and all(name in page for name in MODELS)

    again = client.post(f"/battles/{battle}/vote", data={"winner": "tie"}, headers=headers)
    assert again.status_code == 409
    assert again.headers["HX-Retarget"] == "#flash"


def test_plain_form_posts_without_javascript(client: httpx.Client) -> None:
    token = csrf(client)
    r = client.post("/battles", data={"prompt": "hello", "csrf_token": token})
    assert r.status_code == 303
    location = r.headers["location"]
    battle = location.rsplit("/", 1)[1]
    read_events(client, f"/battles/{battle}/events")
    page = client.get(location)
    assert page.status_code == 200 and "Echo: hello" in page.text
    r = client.post(f"/battles/{battle}/vote", data={"winner": "model_b", "csrf_token": token})
    assert r.status_code == 303
    assert all(name in client.get(location).text for name in MODELS)


def test_form_without_csrf_proof_is_refused(shared_client: httpx.Client, fake: FakeOpenAI) -> None:
    client = shared_client
    csrf(client)
    r = client.post("/battles", data={"prompt": "hi"}, headers=HX)
    assert r.status_code == 403
    r = client.post("/battles", data={"prompt": "hi", "csrf_token": "0" * 64}, headers=HX)
    assert r.status_code == 403
    token = csrf(client)
    r = client.post(
        "/battles",
        data={"prompt": "hi"},
        headers={**HX, "X-CSRF-Token": token, "Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert fake.chat_requests == []


def test_bad_form_input_is_4xx_with_a_message(shared_client: httpx.Client) -> None:
    client = shared_client
    headers = {**HX, "X-CSRF-Token": csrf(client)}
    r = client.post("/battles", data={"prompt": "   "}, headers=headers)
    assert r.status_code == 422 and "empty" in r.text
    r = client.post("/battles", data={"prompt": "x" * 30_001}, headers=headers)
    assert r.status_code == 422 and "limit" in r.text
    r = client.post("/battles", data={}, headers=headers)
    assert 400 <= r.status_code < 500
    r = client.post("/battles/unknown/vote", data={"winner": "tie"}, headers=headers)
    assert r.status_code == 404


def collect_pre_vote(client: httpx.Client, fake: FakeOpenAI) -> tuple[str, str, str]:
    """Drive a battle to just before the vote through every route; return all that came back."""
    seen: list[str] = []

    def keep(r: httpx.Response) -> httpx.Response:
        r.read()
        seen.append(str(r.status_code))
        seen.extend(f"{k}: {v}" for k, v in r.headers.multi_items())
        seen.append(r.text)
        return r

    token = csrf(client)
    keep(client.get("/"))
    r = keep(client.post("/api/battles", json={"prompt": "Who are you?"}))
    api_battle = r.json()["battle_id"]
    with client.stream("GET", f"/api/battles/{api_battle}/stream") as s:
        keep(s)
    keep(client.get(f"/api/battles/{api_battle}"))
    keep(client.post(f"/api/battles/{api_battle}/turns", json={"prompt": "Really?"}))
    with client.stream("GET", f"/api/battles/{api_battle}/stream") as s:
        keep(s)
    r = keep(
        client.post("/battles", data={"prompt": "Who?"}, headers={**HX, "X-CSRF-Token": token})
    )
    page_battle = battle_id_of(r.text)
    with client.stream("GET", f"/battles/{page_battle}/events") as s:
        keep(s)
    keep(client.get(f"/battles/{page_battle}"))
    seen.extend(f"{c.name}={c.value}" for c in client.cookies.jar)
    return "\n".join(seen), api_battle, page_battle


def test_no_model_identity_before_the_vote(client: httpx.Client, fake: FakeOpenAI) -> None:
    # Even when an upstream names its own model id in an error, the voter sees a neutral text.
    everything, api_battle, _ = collect_pre_vote(client, fake)
    for secret in [*MODELS, *MODELS.values(), "labs"]:
        assert secret not in everything, secret
    after = client.post(f"/api/battles/{api_battle}/vote", json={"winner": "tie"})
    assert {after.json()["model_a"], after.json()["model_b"]} == set(MODELS)
    state = client.get(f"/api/battles/{api_battle}").text
    assert all(name in state for name in MODELS)


def test_upstream_error_text_never_reaches_the_voter(
    arena_server: ArenaServer, tmp_path: object, fake: FakeOpenAI
) -> None:
    from pathlib import Path

    from tests.conftest import write_models

    models = write_models(
        Path(str(tmp_path)) / "m.toml",
        fake.base_url,
        {"alpha": "upstream-alpha-7b", "beta": "upstream-beta-13b"},
    )
    fake.set_default(
        Behavior(
            status=500,
            error_body={
                "error": {
                    "message": "upstream-alpha-7b and upstream-beta-13b are overloaded",
                    "type": "server_error",
                }
            },
        )
    )
    with (
        arena_server(models=models, replacement_tries=0) as srv,
        srv.client() as c,
    ):
        battle = c.post("/api/battles", json={"prompt": "hi"}).json()["battle_id"]
        events = read_events(c, f"/api/battles/{battle}/stream")
        text = "\n".join(d for _, d in events) + c.get(f"/api/battles/{battle}").text
        assert "overloaded" not in text and "upstream-" not in text
        state = c.get(f"/api/battles/{battle}").json()
        assert state["status"] == "failed"
        assert state["turns"][0]["a"]["error"] == "The model's server had an error."


HOSTILE = (
    "Hello <script>alert('x')</script> and <img src=x onerror=alert(1)> "
    '[click](javascript:alert(1)) [ok](https://example.org) <a href="javascript:alert(2)">a</a>'
)


def test_hostile_output_arrives_inert(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_default(Behavior(reply=HOSTILE))
    token = csrf(client)
    r = client.post("/battles", data={"prompt": "hi"}, headers={**HX, "X-CSRF-Token": token})
    battle = battle_id_of(r.text)
    events = read_events(client, f"/battles/{battle}/events")
    streamed = "".join(d for n, d in events if n in ("a", "b", "a-content-all", "b-content-all"))
    final = dict(events)["a-done"] + dict(events)["b-done"]
    page = client.get(f"/battles/{battle}").text
    for html in (streamed, final, page):
        assert "<script>" not in html
        assert "<img" not in html
        assert 'href="javascript:' not in html.replace(" ", "")
        assert "&lt;script&gt;" in html
    assert 'href="https://example.org"' in final
    assert 'rel="nofollow noopener noreferrer"' in final


def test_security_headers_and_cookie(shared_client: httpx.Client) -> None:
    client = shared_client
    r = client.get("/")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    csp = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    )
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_stopped_answer_is_marked_stopped(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_default(Behavior(reply=" ".join(f"w{i}" for i in range(2000)), token_delay=0.02))
    headers = {**HX, "X-CSRF-Token": csrf(client)}
    battle = battle_id_of(client.post("/battles", data={"prompt": "go on"}, headers=headers).text)
    done: dict[str, str] = {}
    stopped = False
    with client.stream("GET", f"/battles/{battle}/events") as stream:
        name, data = "", []
        for line in stream.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
                if name == "a" and not stopped:
                    stopped = True
                    stop = client.post(f"/battles/{battle}/stop", headers=headers)
                    assert stop.status_code == 204
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif line == "":
                done[name] = "\n".join(data)
                name, data = "", []
    for side in "ab":
        assert "Stopped" in done[f"{side}-done"] and 'data-stopped="true"' in done[f"{side}-done"]
    page = client.get(f"/battles/{battle}").text
    assert page.count('data-stopped="true"') == 2 and "Stopped" in page
    # A complete answer carries no such mark.
    fake.set_default(Behavior(reply="Short and complete."))
    other = battle_id_of(client.post("/battles", data={"prompt": "hi"}, headers=headers).text)
    events = dict(read_events(client, f"/battles/{other}/events"))
    assert "Stopped" not in events["a-done"] and "data-stopped" not in events["a-done"]


def test_wait_in_words() -> None:
    from arena.web.render import wait_in_words

    assert wait_in_words(1) == "1 second"
    assert wait_in_words(45) == "45 seconds"
    assert wait_in_words(61) == "2 minutes"
    assert wait_in_words(180) == "3 minutes"
    assert wait_in_words(3600) == "1 hour"
    assert wait_in_words(3900) == "1 hour 5 minutes"


def test_rate_limit_says_when_to_try_again(arena_server: Any) -> None:
    with (
        arena_server(battles_per_voter_per_hour=1) as srv,
        srv.client() as c,
    ):
        token = csrf(c)
        headers = {**HX, "X-CSRF-Token": token}
        assert c.post("/battles", data={"prompt": "one"}, headers=headers).status_code == 200
        r = c.post("/battles", data={"prompt": "two"}, headers=headers)
        assert r.status_code == 429 and r.headers["HX-Retarget"] == "#flash"
        assert int(r.headers["Retry-After"]) > 3500
        assert "Try again in 1 hour." in r.text and "later" not in r.text
        # The plain form (no htmx) gets the same words on a whole page.
        r = c.post("/battles", data={"prompt": "three", "csrf_token": token})
        assert r.status_code == 429 and "Try again in 1 hour." in r.text
        assert "Retry-After" in r.headers
