"""Running the local llama.cpp servers: child processes, readiness, and cleanup on any exit."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from arena.cli.local_specs import DEFAULT_SPECS, LocalServerSpec, model_path, server_command

# Seconds a server has to answer GET /v1/models, loading the model included.
STARTUP_TIMEOUT_S = 120.0
# Seconds between SIGTERM and SIGKILL when the servers stop.
STOP_GRACE_S = 5.0


class LocalServerError(RuntimeError):
    """A local llama.cpp server failed to start."""


def _free_ports(host: str, count: int) -> list[int]:
    """Return count distinct free TCP ports on host."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            socks.append(sock)
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a text file (empty if missing)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class _Running:
    """A started server process and where it listens."""

    spec: LocalServerSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path


_LIVE: set[LocalServers] = set()
_HANDLERS_INSTALLED = False


def _stop_all_live() -> None:
    """Stop every live LocalServers (atexit and signal path)."""
    for servers in list(_LIVE):
        servers.stop()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Stop the servers, then die of the same signal as the default handler would."""
    _stop_all_live()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    """Register atexit and SIGTERM/SIGHUP handlers once (signals only from the main thread)."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    atexit.register(_stop_all_live)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, _on_signal)
    _HANDLERS_INSTALLED = True


class LocalServers:
    """Context manager running one llama.cpp server subprocess per spec."""

    def __init__(
        self,
        specs: Iterable[LocalServerSpec] = DEFAULT_SPECS,
        host: str = "127.0.0.1",
        *,
        model: Path | None = None,
        startup_timeout: float = STARTUP_TIMEOUT_S,
        log_dir: Path | None = None,
        python: str | None = None,
    ) -> None:
        """Remember the specs; nothing starts until __enter__ / start()."""
        self.specs: tuple[LocalServerSpec, ...] = tuple(specs)
        names = [spec.name for spec in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate server names: {names}")
        self.host = host
        self.model = model
        self.startup_timeout = startup_timeout
        self.python = python
        self._own_log_dir = log_dir is None
        self.log_dir: Path | None = log_dir
        self._running: list[_Running] = []
        self._lock = threading.Lock()

    def __enter__(self) -> LocalServers:
        """Start the servers and wait until each answers GET /v1/models."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the servers, whatever ended the block."""
        self.stop()

    def start(self) -> None:
        """Start every server (ports chosen when 0) and wait until all are ready."""
        if self._running:
            raise RuntimeError("LocalServers already started")
        model = self.model if self.model is not None else model_path()
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="arena-llama-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        auto = _free_ports(self.host, sum(1 for spec in self.specs if spec.port == 0))
        _install_handlers()
        _LIVE.add(self)
        env = {**os.environ, "ARENA_PARENT_PID": str(os.getpid()), "PYTHONUNBUFFERED": "1"}
        try:
            for spec in self.specs:
                port = spec.port or auto.pop(0)
                log_path = self.log_dir / f"{spec.name}.log"
                with log_path.open("wb") as log:
                    process = subprocess.Popen(
                        server_command(spec, model, self.host, port, self.python),
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=env,
                        start_new_session=True,
                    )
                self._running.append(_Running(spec, port, process, log_path))
            deadline = time.monotonic() + self.startup_timeout
            for running in self._running:
                self._wait_ready(running, deadline)
        except BaseException:
            self.stop(keep_logs=True)
            raise

    def _wait_ready(self, running: _Running, deadline: float) -> None:
        """Poll GET /v1/models until it answers, the process dies or the deadline passes."""
        url = f"{self._base_url(running.port)}/models"
        while True:
            code = running.process.poll()
            if code is not None:
                raise LocalServerError(
                    f"llama.cpp server {running.spec.name!r} exited with code {code} "
                    f"(log {running.log_path}):\n{_tail(running.log_path)}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2.0) as response:
                    payload = json.loads(response.read())
                if any(m.get("id") == running.spec.model_alias for m in payload.get("data", [])):
                    return
            except (OSError, ValueError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise LocalServerError(
                    f"llama.cpp server {running.spec.name!r} not ready after "
                    f"{self.startup_timeout:.0f}s (log {running.log_path}):\n"
                    f"{_tail(running.log_path)}"
                )
            time.sleep(0.25)

    def _base_url(self, port: int) -> str:
        """Return the OpenAI-compatible base URL of a server on port."""
        return f"http://{self.host}:{port}/v1"

    def endpoints(self) -> list[dict[str, Any]]:
        """Return the arena model-endpoint dicts of the running servers."""
        return [r.spec.endpoint(self._base_url(r.port)) for r in self._running]

    def base_urls(self) -> dict[str, str]:
        """Return {endpoint name: base_url} of the running servers."""
        return {r.spec.name: self._base_url(r.port) for r in self._running}

    def log_paths(self) -> dict[str, Path]:
        """Return {endpoint name: server log file}."""
        return {r.spec.name: r.log_path for r in self._running}

    def stop(self, keep_logs: bool = False) -> None:
        """SIGTERM each server's process group, SIGKILL after 5 s, then drop the logs."""
        with self._lock:
            running, self._running = self._running, []
            for item in running:
                _signal_group(item.process, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_S
            for item in running:
                try:
                    item.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _signal_group(item.process, signal.SIGKILL)
                    item.process.wait()
            _LIVE.discard(self)
            if not keep_logs and self._own_log_dir and self.log_dir is not None and running:
                shutil.rmtree(self.log_dir, ignore_errors=True)
                self.log_dir = None


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send signum to the process group led by process (ignoring ones already gone)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)
