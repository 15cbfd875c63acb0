"""docs/deployment.md, tried: its nginx site in front of a real arena passes the answer stream on
as it is generated (buffering off), and its systemd unit passes `systemd-analyze verify`."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.arena_process import ROOT, ArenaProcess, free_port
from tests.conftest import write_models
from tests.fake_openai import Behavior, FakeOpenAI

DOC = (ROOT / "docs" / "deployment.md").read_text()


def block(language: str, containing: str) -> str:
    """The fenced code block of that language in docs/deployment.md holding this text."""
    for found in re.findall(rf"```{language}\n(.*?)```", DOC, re.S):
        if containing in found:
            return str(found)
    raise AssertionError(f"no ```{language} block with {containing!r} in docs/deployment.md")


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "nginx exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("nginx did not listen")


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[int], int]]:
    """`nginx(arena_port) -> proxy port`: the docs' site in a private nginx, stopped afterwards."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(arena_port: int) -> int:
        port = free_port()
        site = block("nginx", "proxy_buffering off")
        site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{arena_port};")
        site = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{port};", site)
        site = site.replace("server_name arena.example.org;", "server_name localhost;")
        assert f"listen 127.0.0.1:{port};" in site and str(arena_port) in site
        temp = tmp_path / "nginx"
        temp.mkdir()
        conf = temp / "nginx.conf"
        conf.write_text(
            f"daemon off;\nworker_processes 1;\npid {temp}/nginx.pid;\n"
            f"error_log {temp}/error.log warn;\nevents {{ worker_connections 64; }}\n"
            f"http {{\n  access_log {temp}/access.log;\n"
            f"  client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;\n"
            f"  fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi;\n"
            f"  scgi_temp_path {temp}/scgi;\n{site}\n}}\n"
        )
        proc = subprocess.Popen([binary, "-p", str(temp), "-c", str(conf)])
        procs.append(proc)
        wait_for_port(port, proc)
        return port

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def test_the_nginx_site_streams_answers_as_they_come(
    nginx: Callable[[int], int], tmp_path: Path, fake: FakeOpenAI
) -> None:
    # Three chunks, then the upstream hangs: the answer cannot end for the next 60 seconds, so
    # text seen through nginx before that was passed on unbuffered.
    fake.set_default(Behavior(reply="first words of a long answer", stall_after=3))
    env = {
        "ARENA_DATABASE_URL": f"sqlite:///{tmp_path / 'arena.db'}",
        "ARENA_MODELS": str(write_models(tmp_path / "models.toml", fake.base_url)),
        "ARENA_STALL_TIMEOUT": "60",
        "ARENA_TRUSTED_PROXY_HEADERS": '["x-real-ip"]',
    }
    with ArenaProcess(env) as arena:
        port = nginx(arena.port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            assert client.get("/").status_code == 200
            started = client.post("/api/battles", json={"prompt": "Through the proxy"})
            assert started.status_code == 201, started.text
            # nginx's $request_id reached the arena, which echoed it.
            assert re.fullmatch(r"[0-9a-f]{32}", started.headers["x-request-id"])
            battle = started.json()["battle_id"]
            seen = ""
            with client.stream("GET", f"/api/battles/{battle}/stream") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                for line in stream.iter_lines():  # a ReadTimeout (20 s) if nginx buffered
                    if line.startswith("data:") and "first" in line:
                        seen = line
                        break
            assert seen
            assert client.get("/metrics").status_code == 404  # kept off the public site


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = block("ini", "ExecStart=").replace(
        "/srv/arena/.venv/bin/arena", str(Path(shutil.which("arena") or "/bin/true"))
    )
    path = tmp_path / "arena.service"
    path.write_text(unit)
    done = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True)
    # Only complaints about this unit count (the host's own units may have their own).
    ours = [line for line in done.stderr.splitlines() if "arena.service" in line]
    assert done.returncode == 0 or not ours, done.stderr
    assert not ours, ours
