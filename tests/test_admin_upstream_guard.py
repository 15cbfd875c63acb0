"""Admin hardening: which env vars may hold a key, where a stored key may go, which hosts may be
called, and a draft test that cannot be used to scan the server's network."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from arena.cli.main import main
from arena.core.settings import Settings
from arena.store.endpoints import ModelsFileError, read_models_file, resolve_api_key
from arena.store.engine import make_engine
from arena.store.tables import Endpoint
from arena.web.app import create_app
from tests.admin_client import AUTH, htmx, login
from tests.fake_openai import Behavior, FakeOpenAI, closed_port_url

KEY = "sk-typed-SECRET-4242"


@pytest.fixture
def admin(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """An in-process arena (lifespan run) with the default rules."""
    with TestClient(create_app(make_settings()), follow_redirects=False) as c:
        yield c


def new(base_url: str, **fields: object) -> dict[str, object]:
    return {"name": "probe", "base_url": base_url, "model": "m", **fields}


def row(database_url: str, name: str) -> Endpoint | None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        found = session.exec(select(Endpoint).where(Endpoint.name == name)).first()
    engine.dispose()
    return found


# --- api_key_env names only key variables ---------------------------------------------------------


@pytest.mark.parametrize(
    "env", ["ARENA_SECRET_KEY", "ARENA_DATABASE_URL", "arena_admin_token", "DATABASE_URL", "HOME"]
)
def test_server_variables_are_refused_as_key_variables(
    admin: TestClient, fake: FakeOpenAI, database_url: str, env: str
) -> None:
    r = admin.post("/api/admin/models", headers=AUTH, json=new(fake.base_url, api_key_env=env))
    assert r.status_code == 422, r.text
    assert "api_key_env" in r.json()["detail"]
    assert row(database_url, "probe") is None
    r = admin.patch("/api/admin/models/alpha", headers=AUTH, json={"api_key_env": env})
    assert r.status_code == 422 and "api_key_env" in r.json()["detail"]
    assert row(database_url, "alpha").api_key_env is None  # type: ignore[union-attr]


def test_key_variables_are_accepted(admin: TestClient, fake: FakeOpenAI) -> None:
    for i, env in enumerate(("OPENAI_API_KEY", "DASHSCOPE_API_KEY", "HF_TOKEN", "MY_KEY")):
        body = new(fake.base_url, api_key_env=env, name=f"ok{i}")
        assert admin.post("/api/admin/models", headers=AUTH, json=body).status_code == 201


def test_the_pattern_is_a_setting_but_arena_variables_stay_refused(
    make_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    settings = make_settings(api_key_env_pattern=r"^CORP_[A-Z_]+$")
    with TestClient(create_app(settings), follow_redirects=False) as c:
        ok = c.post(
            "/api/admin/models", headers=AUTH, json=new(fake.base_url, api_key_env="CORP_X")
        )
        assert ok.status_code == 201, ok.text
        body = new(fake.base_url, name="n2", api_key_env="OPENAI_API_KEY")
        assert c.post("/api/admin/models", headers=AUTH, json=body).status_code == 422
    loose = make_settings(api_key_env_pattern=r".*")
    with TestClient(create_app(loose), follow_redirects=False) as c:
        body = new(fake.base_url, api_key_env="ARENA_SECRET_KEY")
        r = c.post("/api/admin/models", headers=AUTH, json=body)
        assert r.status_code == 422 and "arena's own settings" in r.json()["detail"]


def test_the_form_the_models_file_and_the_cli_use_the_same_rule(
    admin: TestClient,
    fake: FakeOpenAI,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    csrf = login(admin)
    form = {"name": "probe", "base_url": fake.base_url, "model": "m"}
    r = admin.post(
        "/admin/models", headers=htmx(csrf), data={**form, "api_key_env": "ARENA_SECRET_KEY"}
    )
    assert r.status_code == 422 and "arena&#39;s own settings" in r.text

    models = tmp_path / "bad.toml"
    models.write_text(
        f'[[models]]\nname = "x"\nbase_url = "{fake.base_url}"\nmodel = "m"\n'
        'api_key_env = "ARENA_DATABASE_URL"\n'
    )
    with pytest.raises(ModelsFileError, match="api_key_env"):
        read_models_file(models)

    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    args = ["models", "add", "cli", "--base-url", fake.base_url, "--model", "m"]
    assert main([*args, "--api-key-env", "ARENA_SECRET_KEY"]) != 0
    assert row(database_url, "cli") is None


def test_an_old_row_naming_an_arena_variable_never_sends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARENA_SECRET_KEY", "the-server-secret-0123456789abcdef")
    endpoint = Endpoint(
        name="old", base_url="http://h/v1", model="m", api_key_env="ARENA_SECRET_KEY"
    )
    assert resolve_api_key(endpoint) == "sk-no-key"


# --- a stored key does not follow base_url to another host ------------------------------------


def test_a_new_host_needs_the_key_typed_again(
    admin: TestClient, fake: FakeOpenAI, database_url: str
) -> None:
    body = new(fake.base_url, api_key=KEY)
    assert admin.post("/api/admin/models", headers=AUTH, json=body).status_code == 201
    other = fake.base_url.replace("127.0.0.1", "localhost")
    r = admin.patch("/api/admin/models/probe", headers=AUTH, json={"base_url": other})
    assert r.status_code == 422, r.text
    assert "Type the key again" in r.json()["detail"]
    assert row(database_url, "probe").base_url == fake.base_url  # type: ignore[union-attr]
    # Another port is another host too; another path on the same host is not.
    port = closed_port_url().rsplit("/", 1)[0]
    r = admin.patch("/api/admin/models/probe", headers=AUTH, json={"base_url": port + "/v1"})
    assert r.status_code == 422
    same = {"base_url": fake.base_url.removesuffix("/v1") + "/api/v1"}
    assert admin.patch("/api/admin/models/probe", headers=AUTH, json=same).status_code == 200
    # Typed again, or cleared: allowed.
    moved = {"base_url": other, "api_key": "sk-new-key-0000"}
    assert admin.patch("/api/admin/models/probe", headers=AUTH, json=moved).status_code == 200
    back = {"base_url": fake.base_url, "api_key": None}
    assert admin.patch("/api/admin/models/probe", headers=AUTH, json=back).status_code == 200
    # Without a stored key nothing follows the URL, so no key is asked for.
    assert admin.patch("/api/admin/models/probe", headers=AUTH, json={"base_url": other}).is_success


def test_the_edit_form_says_so_beside_the_key(admin: TestClient, fake: FakeOpenAI) -> None:
    assert admin.post(
        "/api/admin/models", headers=AUTH, json=new(fake.base_url, api_key=KEY)
    ).is_success
    csrf = login(admin)
    other = fake.base_url.replace("127.0.0.1", "localhost")
    form = {"base_url": other, "model": "m", "weight": "1", "enabled": "on"}
    r = admin.post("/admin/models/probe", headers=htmx(csrf), data=form)
    assert r.status_code == 422 and "Type the key again" in r.text


# --- link-local and metadata hosts, credentials in URLs ---------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://169.254.1.7:8000/v1",
        "http://[fd00:ec2::254]/v1",
        "http://[fe80::1]:8080/v1",
        "http://[::ffff:169.254.169.254]/v1",
        "http://2852039166/v1",
        "http://0xa9fea9fe/v1",
        "http://metadata.google.internal/computeMetadata/v1",
        "https://user:pass@api.example.com/v1",
        "https://token@api.example.com/v1",
    ],
)
def test_metadata_hosts_and_credentials_are_refused(
    admin: TestClient, url: str, database_url: str
) -> None:
    r = admin.post("/api/admin/models", headers=AUTH, json=new(url))
    assert r.status_code == 422, r.text
    assert "base_url" in r.json()["detail"]
    r = admin.patch("/api/admin/models/alpha", headers=AUTH, json={"base_url": url})
    assert r.status_code == 422
    assert row(database_url, "probe") is None


def test_a_setting_allows_them(make_settings: Callable[..., Settings]) -> None:
    with TestClient(
        create_app(make_settings(allow_link_local_upstreams=True)), follow_redirects=False
    ) as c:
        r = c.post("/api/admin/models", headers=AUTH, json=new("http://169.254.10.10:8000/v1"))
        assert r.status_code == 201, r.text


def test_the_test_button_sends_nothing_to_a_metadata_address(
    admin: TestClient, database_url: str
) -> None:
    # A row saved before the rule existed (or written straight into the database).
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(Endpoint(name="legacy", base_url="http://169.254.169.254/v1", model="m"))
        session.commit()
    engine.dispose()
    r = admin.post("/api/admin/models/legacy/test", headers=AUTH)
    assert r.status_code == 200 and r.json()["error"] == "refused"
    assert "link-local" in r.json()["message"]


# --- testing a draft on an unknown host tells nothing about its ports ---------------------------


@pytest.fixture
def silent_port() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


@pytest.fixture
def http_404_port() -> Iterator[str]:
    """A plain HTTP server that answers 404 to everything (not an OpenAI API)."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class NotFound(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_error(404, "nothing here")

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_a_draft_on_an_unknown_host_fails_the_same_way_for_every_port(
    make_settings: Callable[..., Settings],
    fake: FakeOpenAI,
    silent_port: str,
    http_404_port: str,
    database_url: str,
) -> None:
    settings = make_settings(connect_timeout=0.5, first_token_timeout=0.5)
    with TestClient(create_app(settings), follow_redirects=False) as c:
        csrf = login(c)
        seen = []
        for url in (closed_port_url(), silent_port, http_404_port):
            started = time.monotonic()
            form = {"name": "draft1", "base_url": url, "model": "m"}
            r = c.post("/admin/draft/test", headers=htmx(csrf), data=form)
            took = time.monotonic() - started
            assert r.status_code == 200, r.text
            assert took >= 0.95, f"{url} answered in {took:.2f}s: the wait would tell"
            # Everything the admin sees, with the URL's port taken out.
            seen.append(r.text.replace(url.removeprefix("http://").removesuffix("/v1"), "HOST"))
        assert seen[0] == seen[1] == seen[2]
        assert "No usable answer from HOST" in seen[0]
        assert "refused" not in seen[0].split("</h3>")[0]
        # A draft that works answers, and nothing was stored.
        form = {"name": "draft1", "base_url": fake.base_url, "model": "upstream-alpha-7b"}
        r = c.post("/admin/draft/test", headers=htmx(csrf), data=form)
        assert "draft1 answered" in r.text and "Echo: " in r.text
    assert row(database_url, "draft1") is None


def test_a_draft_on_a_known_host_gets_the_full_diagnosis(
    admin: TestClient, fake: FakeOpenAI, database_url: str
) -> None:
    fake.set_behavior("upstream-missing", Behavior(status=404))
    csrf = login(admin)
    form = {"base_url": fake.base_url, "model": "upstream-missing"}
    r = admin.post("/admin/draft/test", headers=htmx(csrf), data=form)
    assert r.status_code == 200 and "Unknown model id" in r.text
    # The edit form's draft: its values, the saved endpoint untouched.
    edit = {"base_url": fake.base_url, "model": "upstream-missing", "weight": "1"}
    r = admin.post("/admin/models/alpha/draft", headers=htmx(csrf), data=edit)
    assert r.status_code == 200 and "Unknown model id" in r.text
    assert row(database_url, "alpha").model == "upstream-alpha-7b"  # type: ignore[union-attr]
    # A draft is validated like a save.
    bad = {"base_url": "http://169.254.169.254/v1", "model": "m"}
    r = admin.post("/admin/draft/test", headers=htmx(csrf), data=bad)
    assert r.status_code == 422 and "link-local" in r.text
