"""A real, misbehaving OpenAI-compatible HTTP server for tests and benchmarks.

The server is a small raw-ASGI app run by uvicorn on 127.0.0.1 (ephemeral port), either in a
background thread (:class:`FakeOpenAI`, :func:`running_fake_openai`) or as a subprocess::

    python -m tests.fake_openai --port 0 --token-delay 0.01

which prints its base URL (``http://127.0.0.1:PORT/v1``) as the first stdout line and serves
until SIGTERM/SIGINT (or SIGKILL).

Endpoints
    ``GET  /v1/models``            configured model ids (+ every id given a behaviour)
    ``GET  /v1/models/{id}``
    ``POST /v1/chat/completions``  ``stream: true`` (SSE) and ``stream: false``
    ``POST /v1/moderations``       flagged when the input contains a configured word
    ``POST /_fake/behavior``       JSON ``{"model": id-or-null, <Behavior fields>}`` (subprocess
                                   control; ``reply`` must be a string there)
    ``POST /_fake/reset``, ``GET /_fake/stats``, ``GET /_fake/requests``

Behaviour is per *upstream model id* (:class:`Behavior`, frozen dataclass); unknown ids use the
default behaviour unless ``strict_models=True`` (then 404 ``model_not_found``).

Stream chunk counting: ``stall_after`` / ``cut_after`` / ``malformed_after`` /
``output_filter_after`` count the *content-bearing* chunks (reasoning or answer deltas) sent
after the initial ``role: assistant`` chunk.  ``N = 0`` acts right after the role chunk;
``N >= number of content chunks`` acts after all content but before the ``finish_reason`` chunk.

DashScope / Alibaba Cloud Model Studio (OpenAI-compatible mode) content inspection, as seen by
the ``openai`` client (e.g. camel-ai/owl#432, 666ghj/BettaFish#449): HTTP 400 with body::

    {"error": {"code": "data_inspection_failed", "param": null,
               "message": "Input data may contain inappropriate content.",
               "type": "data_inspection_failed"},
     "id": "chatcmpl-<uuid>", "request_id": "<uuid>"}

(newer deployments append `` For details, see: https://help.aliyun.com/zh/model-studio/
error-code#inappropriate-content`` to the message; the native DashScope API reports the same
thing as ``DataInspectionFailed`` / ``InternalError.Algo.DataInspectionFailed``).  When the
*output* is flagged while streaming, the stream carries an error event with
``"Output data may contain inappropriate content."`` instead of further deltas — emulated by
``output_filter_after`` (the ``openai`` client raises ``openai.APIError`` for such an event).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import (
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn

__all__ = [
    "DEFAULT_MODERATION_CATEGORIES",
    "Behavior",
    "FakeOpenAI",
    "ReasoningField",
    "RequestRecord",
    "closed_port_url",
    "default_reply",
    "main",
    "running_fake_openai",
    "tokenize",
]

Message = dict[str, Any]
Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]
ReasoningField = Literal["reasoning_content", "reasoning", "think_tags"]

DATA_INSPECTION_MESSAGE = "Input data may contain inappropriate content."
OUTPUT_INSPECTION_MESSAGE = "Output data may contain inappropriate content."
DEFAULT_MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


@dataclass(frozen=True)
class Behavior:
    """How the fake upstream answers one model id.  Every field is optional.

    Faults (``status``, ``content_filter``, ``stall_after``, ``cut_after``,
    ``malformed_after``, ``output_filter_after``, ``plain_json``) apply to every request, or only
    to the first ``fail_times`` requests for that model when ``fail_times > 0`` (later requests
    then behave normally).  Counted per model id that has its own behaviour (all ids on the
    default behaviour share one counter); restarts on ``set_behavior`` / ``set_default`` /
    ``reset``.
    """

    reply: str | Callable[[list[Message]], str] | None = None
    """Answer text; ``None`` -> :func:`default_reply` (never contains the model id)."""
    replies: tuple[str, ...] = ()
    """Scripted answers, one per request for this model in turn (cycling); beats ``reply``.
    Lets the server act as an LLM judge over the control API too (``replies`` as a JSON list)."""
    tokens_per_chunk: int = 1
    chars_per_token: int | None = None
    """Cut the reply into tokens of this many characters (long text without spaces in pieces)."""
    token_delay: float = 0.0
    """Seconds between content chunks (fixed rate, drift-free)."""
    first_token_delay: float = 0.0
    """Seconds between the response headers and the first (role + content) chunk."""
    reasoning: str | None = None
    reasoning_field: ReasoningField = "reasoning_content"
    """``reasoning_content`` (DeepSeek/Qwen), ``reasoning`` (vLLM/OpenRouter), or
    ``think_tags``: ``<think>…</think>\\n\\n`` inline in ``content`` before the answer."""
    status: int | None = None
    """Fail the request with this HTTP status (OpenAI-style error body)."""
    error_body: dict[str, Any] | None = None
    """Override the JSON error body for ``status``."""
    retry_after: float | None = None
    """``retry-after`` header (seconds) on ``status`` errors."""
    fail_times: int = 0
    """0: faults apply always; N > 0: only the first N requests for this model misbehave."""
    stall_after: int | None = None
    """Send N content chunks, then hang until the client disconnects (non-stream: no reply)."""
    cut_after: int | None = None
    """Send N content chunks, then end the response: no finish_reason, no ``[DONE]``."""
    cut_mode: Literal["clean", "abort"] = "clean"
    """``clean``: well-formed end of the HTTP body; ``abort``: drop the TCP connection mid-body
    (client sees an incomplete chunked read -> ``openai.APIConnectionError``)."""
    malformed_after: int | None = None
    """After N content chunks send ``data: {not json``."""
    malformed_then: Literal["continue", "close"] = "continue"
    output_filter_after: int | None = None
    """After N content chunks send a DashScope output-inspection error event, then end."""
    plain_json: bool = False
    """Answer ``stream: true`` with one ``chat.completion`` JSON (application/json)."""
    content_filter: bool = False
    """DashScope input inspection refusal: 400 ``data_inspection_failed``."""
    content_filter_message: str = DATA_INSPECTION_MESSAGE
    no_usage: bool = False
    """Never send usage (neither the include_usage chunk nor the non-stream ``usage``)."""
    prompt_tokens: int | None = None
    """Report this many prompt tokens in the usage (default: the words of the messages)."""
    completion_tokens: int | None = None
    """Report this many completion tokens in the usage (default: the tokens sent)."""
    finish_reason: str | None = None
    """Override the finish reason (default ``stop``, or ``length`` when max_tokens cut it)."""
    require_api_key: str | None = None
    """401 ``invalid_api_key`` unless ``Authorization: Bearer <this>``."""
    padding: int = 0
    """Bytes of an extra ``x_padding`` member in the first chunk, as strings of at most 1 MiB
    (with ``framing="awkward"`` each one a ``data:`` line of its own: a large event of many
    lines, none of them large)."""
    echo_key: bool = False
    """Append the API key this request carried to the reply: as is, as ``Bearer <key>``,
    base64-encoded and URL-encoded (a server that leaks its caller's credentials)."""
    raw_json: str | None = None
    """Answer (streaming or not) with exactly this ``application/json`` body."""
    raw_chunks: tuple[str, ...] = ()
    """Stream these ``data:`` payloads verbatim after the role chunk instead of the reply,
    then end the body (no finish_reason, no ``[DONE]`` unless they hold one)."""
    raw_repeat: bool = False
    """Then send the last of ``raw_chunks`` over and over until the client leaves."""
    framing: Literal["lf", "awkward"] = "lf"
    """``awkward``: all the SSE standard allows that few servers send: CRLF line ends, a comment
    and an ``event:`` line before each event, its JSON spread over several ``data:`` lines, and
    every write split inside its first CRLF."""


@dataclass
class RequestRecord:
    """One HTTP request received by the fake server."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    time: float
    """``time.time()`` at arrival."""
    monotonic: float
    model: str | None = None
    messages: list[Message] | None = None
    stream: bool = False
    status: int | None = None
    """HTTP status answered (``None`` while undecided)."""
    outcome: str = "pending"
    """pending | completed | error | disconnected | cut | stalled | shutdown"""
    chunks_sent: int = 0
    # set when this stream stops counting in FakeOpenAI.active_streams (see _finish_stream)
    released: bool = False

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def api_key(self) -> str | None:
        auth = self.authorization
        if auth is None:
            return None
        return auth[7:] if auth.lower().startswith("bearer ") else auth

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_TOKEN_RE = re.compile(r"\s*\S+(?:\s+$)?|\s+$")


def tokenize(text: str) -> list[str]:
    """Split into word tokens that keep their leading whitespace; ``"".join`` round-trips."""
    return _TOKEN_RE.findall(text)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return " ".join(parts)
    return ""


def default_reply(messages: Sequence[Mapping[str, Any]]) -> str:
    """Deterministic answer derived from the last user message (never names the model)."""
    last = ""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            last = _content_text(msg.get("content")).strip()
            break
    return (
        f"Echo: {last or '(empty)'}. This is a deterministic reply from the fake upstream. "
        "It has a few sentences so that a stream carries several chunks. The end."
    )


def closed_port_url() -> str:
    """A ``base_url`` where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _mask_key(key: str) -> str:
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to access this model.", "invalid_request_error", None),
    404: ("The requested resource was not found.", "invalid_request_error", None),
    408: ("Request timed out.", "timeout", None),
    409: ("Conflict.", "invalid_request_error", None),
    422: ("Unprocessable entity.", "invalid_request_error", None),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def error_body(status: int, message: str | None = None, code: str | None = None) -> dict[str, Any]:
    """OpenAI-style ``{"error": {"message", "type", "param", "code"}}`` for ``status``."""
    d_msg, d_type, d_code = _ERROR_DEFAULTS.get(
        status, (f"Upstream error {status}.", "server_error", None)
    )
    return {
        "error": {
            "message": message or d_msg,
            "type": d_type,
            "param": None,
            "code": code if code is not None else d_code,
        }
    }


def data_inspection_body(message: str = DATA_INSPECTION_MESSAGE) -> dict[str, Any]:
    rid = str(uuid.uuid4())
    return {
        "error": {
            "code": "data_inspection_failed",
            "param": None,
            "message": message,
            "type": "data_inspection_failed",
        },
        "id": f"chatcmpl-{rid}",
        "request_id": rid,
    }


class _AbortConnection(Exception):
    """Raised inside the app to make uvicorn drop the connection mid-body."""


class _DropAbortLogs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, _AbortConnection)


_ABORT_FILTER = _DropAbortLogs()
logging.getLogger("uvicorn.error").addFilter(_ABORT_FILTER)

_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]
_DONE = b"data: [DONE]\n\n"
_MALFORMED = b"data: {not json\n\n"
_NEVER = 1e9


def _dumps(obj: Any) -> bytes:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON's \\udXXX escape, as real servers send
        return json.dumps(obj, separators=(",", ":")).encode()


def _count_words(messages: list[Message]) -> int:
    return sum(
        len(tokenize(_content_text(m.get("content")))) for m in messages if isinstance(m, dict)
    )


class FakeOpenAI:
    """OpenAI chat-completions server on loopback, in a background thread.

    Use as a context manager (``with FakeOpenAI() as fake: fake.base_url``) or
    ``start()`` / ``stop()``.  All configuration methods are thread-safe and may be called while
    the server runs.
    """

    def __init__(
        self,
        *,
        models: Iterable[str] = ("fake-model",),
        default: Behavior | None = None,
        strict_models: bool = False,
        api_key: str | None = None,
        moderation_words: Iterable[str] = ("forbidden",),
        moderation_category: str = "harassment",
        host: str = "127.0.0.1",
        port: int = 0,
        loop: str = "auto",
        log_level: str = "warning",
    ) -> None:
        self.host = host
        self._requested_port = port
        self._loop_setting = loop
        self._log_level = log_level
        self.strict_models = strict_models
        self.api_key = api_key
        self._lock = threading.Lock()
        self._initial_models = list(models)
        self._initial_default = default or Behavior()
        self._initial_moderation = (tuple(moderation_words), moderation_category)
        self._models: list[str] = []
        self._behaviors: dict[str, Behavior] = {}
        self._default = Behavior()
        self._fail_counts: dict[str | None, int] = {}
        self._requests: list[RequestRecord] = []
        self._moderation_words: tuple[str, ...] = ()
        self._moderation_category = moderation_category
        self.moderation_status: int | None = None
        self.active_streams = 0
        self.closed_early = 0
        self.completed_streams = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._startup_error: BaseException | None = None
        self.port = 0
        self.reset()

    # ------------------------------------------------------------------ configuration
    def reset(self) -> None:
        """Back to the constructor's configuration; clears records and counters."""
        with self._lock:
            self._models = list(self._initial_models)
            self._behaviors = {}
            self._default = self._initial_default
            self._fail_counts = {}
            self._reply_counts: dict[str, int] = {}
            self._requests = []
            self._moderation_words = tuple(w.lower() for w in self._initial_moderation[0])
            self._moderation_category = self._initial_moderation[1]
            self.moderation_status = None
            self.closed_early = 0
            self.completed_streams = 0

    def set_behavior(self, model_id: str, behavior: Behavior) -> None:
        with self._lock:
            self._behaviors[model_id] = behavior
            self._fail_counts.pop(model_id, None)
            self._reply_counts.pop(model_id, None)
            if model_id not in self._models:
                self._models.append(model_id)

    def update_behavior(self, model_id: str, **changes: Any) -> Behavior:
        """``set_behavior(model_id, replace(current, **changes))``; returns the new behaviour."""
        new = dataclasses.replace(self.behavior_for(model_id), **changes)
        self.set_behavior(model_id, new)
        return new

    def set_default(self, behavior: Behavior) -> None:
        """Behaviour for model ids without their own ``set_behavior``."""
        with self._lock:
            self._default = behavior
            self._fail_counts.pop(None, None)

    def behavior_for(self, model_id: str) -> Behavior:
        with self._lock:
            return self._behaviors.get(model_id, self._default)

    def add_model(self, *model_ids: str) -> None:
        with self._lock:
            self._models.extend(m for m in model_ids if m not in self._models)

    @property
    def models(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def set_moderation(
        self,
        words: Iterable[str],
        category: str = "harassment",
        status: int | None = None,
    ) -> None:
        """Flag moderation inputs containing any of ``words`` (case-insensitive) under
        ``category``; ``status`` makes the endpoint fail instead."""
        with self._lock:
            self._moderation_words = tuple(w.lower() for w in words)
            self._moderation_category = category
            self.moderation_status = status

    # ------------------------------------------------------------------ inspection
    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot of all received requests (oldest first)."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def requests_for(self, model_id: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.model == model_id]

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.005
    ) -> None:
        """Poll ``predicate`` until true; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)

    async def wait_for_async(
        self, predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.005
    ) -> None:
        """Like :meth:`wait_for` without blocking the caller's event loop."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    def stats(self) -> dict[str, int]:
        with self._lock:
            n = len(self._requests)
        return {
            "requests": n,
            "active_streams": self.active_streams,
            "closed_early": self.closed_early,
            "completed_streams": self.completed_streams,
        }

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self, timeout: float = 10.0) -> FakeOpenAI:
        if self._thread is not None:
            raise RuntimeError("already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.asgi,
            lifespan="off",
            interface="asgi3",
            log_level=self._log_level,
            access_log=False,
            loop=self._loop_setting,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,
            backlog=2048,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._stopping = False

        def run() -> None:
            try:
                with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
                    self._loop = runner.get_loop()
                    runner.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # pragma: no cover - surfaced by start()
                self._startup_error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"fake-openai:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if self._startup_error is not None or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server failed to start") from self._startup_error
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("fake OpenAI server did not start")
            time.sleep(0.002)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        server, thread, loop = self._server, self._thread, self._loop
        if server is None or thread is None:
            return
        self._stopping = True
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._cancel_tasks)
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server = None
        self._thread = None
        self._loop = None

    def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ ASGI app
    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"].rstrip("/") or "/"
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            key = k.decode("latin-1").lower()
            val = v.decode("latin-1")
            headers[key] = f"{headers[key]},{val}" if key in headers else val
        raw = b""
        if method in ("POST", "PUT", "PATCH"):
            more = True
            while more:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                raw += msg.get("body", b"")
                more = msg.get("more_body", False)
        body: Any = None
        bad_json = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        rec = RequestRecord(
            method=method,
            path=path,
            headers=headers,
            body=body if not bad_json else raw.decode("utf-8", "replace"),
            time=time.time(),
            monotonic=time.monotonic(),
        )
        if isinstance(body, dict):
            rec.model = body.get("model") if isinstance(body.get("model"), str) else None
            msgs = body.get("messages")
            rec.messages = msgs if isinstance(msgs, list) else None
            rec.stream = bool(body.get("stream"))
        if not path.startswith("/_fake/"):  # control calls are not recorded
            with self._lock:
                self._requests.append(rec)

        if bad_json:
            await self._json(send, rec, 400, error_body(400, "We could not parse the JSON body."))
            return
        if path == "/v1/chat/completions" and method == "POST":
            await self._chat(scope, receive, send, rec)
        elif path == "/v1/models" and method == "GET":
            if await self._server_auth(send, rec):
                data = [
                    {"id": m, "object": "model", "created": 0, "owned_by": "fake-openai"}
                    for m in self.models
                ]
                await self._json(send, rec, 200, {"object": "list", "data": data})
        elif path.startswith("/v1/models/") and method == "GET":
            mid = path[len("/v1/models/") :]
            if await self._server_auth(send, rec):
                if mid in self.models or not self.strict_models:
                    obj = {"id": mid, "object": "model", "created": 0, "owned_by": "fake-openai"}
                    await self._json(send, rec, 200, obj)
                else:
                    await self._json(send, rec, 404, self._model_not_found(mid))
        elif path == "/v1/moderations" and method == "POST":
            await self._moderations(send, rec)
        elif path.startswith("/_fake/"):
            await self._control(send, rec, method, path)
        else:
            await self._json(send, rec, 404, error_body(404, f"Unknown path {method} {path}"))

    async def _json(
        self,
        send: Send,
        rec: RequestRecord,
        status: int,
        payload: Any,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        data = _dumps(payload)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"x-request-id", f"req_{uuid.uuid4().hex}".encode()),
        ]
        if extra_headers:
            headers.extend(extra_headers)
        rec.status = status
        rec.outcome = "completed" if status < 400 else "error"  # before the client can read it
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _server_auth(self, send: Send, rec: RequestRecord) -> bool:
        return await self._check_key(send, rec, self.api_key)

    async def _check_key(self, send: Send, rec: RequestRecord, expected: str | None) -> bool:
        if expected is None or rec.api_key == expected:
            return True
        got = rec.api_key
        if not got:
            payload = error_body(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
            payload["error"]["code"] = None
        else:
            payload = error_body(
                401,
                f"Incorrect API key provided: {_mask_key(got)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_api_key",
            )
        await self._json(send, rec, 401, payload)
        return False

    @staticmethod
    def _model_not_found(model: str) -> dict[str, Any]:
        return error_body(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "model_not_found",
        )

    async def _moderations(self, send: Send, rec: RequestRecord) -> None:
        if not await self._server_auth(send, rec):
            return
        with self._lock:
            words, category, status = (
                self._moderation_words,
                self._moderation_category,
                self.moderation_status,
            )
        if status is not None:
            await self._json(send, rec, status, error_body(status))
            return
        body = rec.body if isinstance(rec.body, dict) else {}
        raw_input = body.get("input", "")
        inputs: list[str] = []
        for item in raw_input if isinstance(raw_input, list) else [raw_input]:
            if isinstance(item, str):
                inputs.append(item)
            elif isinstance(item, dict):
                inputs.append(item.get("text", "") if isinstance(item.get("text"), str) else "")
        results = []
        for text in inputs:
            low = text.lower()
            flagged = any(w and w in low for w in words)
            cats = dict.fromkeys(DEFAULT_MODERATION_CATEGORIES, False)
            scores = dict.fromkeys(DEFAULT_MODERATION_CATEGORIES, 0.0001)
            if flagged:
                cats[category] = True
                scores[category] = 0.99
            results.append(
                {
                    "flagged": flagged,
                    "categories": cats,
                    "category_scores": scores,
                    "category_applied_input_types": {c: ["text"] for c in cats},
                }
            )
        model = body.get("model") or "omni-moderation-latest"
        payload = {"id": f"modr-{uuid.uuid4().hex}", "model": model, "results": results}
        await self._json(send, rec, 200, payload)

    async def _control(self, send: Send, rec: RequestRecord, method: str, path: str) -> None:
        if path == "/_fake/stats" and method == "GET":
            await self._json(send, rec, 200, self.stats())
        elif path == "/_fake/requests" and method == "GET":
            await self._json(send, rec, 200, [r.as_json() for r in self.requests])
        elif path == "/_fake/reset" and method == "POST":
            self.reset()
            await self._json(send, rec, 200, {"ok": True})
        elif path == "/_fake/behavior" and method == "POST":
            body = dict(rec.body) if isinstance(rec.body, dict) else {}
            model = body.pop("model", None)
            names = {f.name for f in dataclasses.fields(Behavior)}
            unknown = sorted(set(body) - names)
            if unknown:
                await self._json(send, rec, 400, error_body(400, f"Unknown fields: {unknown}"))
                return
            if isinstance(body.get("replies"), list):
                body["replies"] = tuple(str(r) for r in body["replies"])
            behavior = Behavior(**body)
            if model is None:
                self.set_default(behavior)
            else:
                self.set_behavior(str(model), behavior)
            await self._json(send, rec, 200, {"ok": True})
        else:
            await self._json(send, rec, 404, error_body(404, f"Unknown path {method} {path}"))

    def _take_fault(self, model: str, behavior: Behavior) -> bool:
        """Whether this request gets the configured faults (honours ``fail_times``)."""
        if behavior.fail_times <= 0:
            return True
        with self._lock:
            key: str | None = model if model in self._behaviors else None
            n = self._fail_counts.get(key, 0)
            self._fail_counts[key] = n + 1
        return n < behavior.fail_times

    async def _chat(self, scope: Scope, receive: Receive, send: Send, rec: RequestRecord) -> None:
        body = rec.body if isinstance(rec.body, dict) else None
        if body is None or rec.model is None or rec.messages is None:
            await self._json(
                send, rec, 400, error_body(400, "'model' and 'messages' are required.")
            )
            return
        if not await self._server_auth(send, rec):
            return
        model = rec.model
        with self._lock:
            known = model in self._models or model in self._behaviors
            behavior = self._behaviors.get(model, self._default)
        if self.strict_models and not known:
            await self._json(send, rec, 404, self._model_not_found(model))
            return
        if not await self._check_key(send, rec, behavior.require_api_key):
            return
        if not self._take_fault(model, behavior):
            behavior = dataclasses.replace(
                behavior,
                status=None,
                content_filter=False,
                stall_after=None,
                cut_after=None,
                malformed_after=None,
                output_filter_after=None,
                plain_json=False,
            )
        if behavior.content_filter:
            await self._json(send, rec, 400, data_inspection_body(behavior.content_filter_message))
            return
        if behavior.status is not None:
            payload = behavior.error_body or error_body(behavior.status)
            extra = []
            if behavior.retry_after is not None:
                extra.append((b"retry-after", _fmt_seconds(behavior.retry_after).encode()))
            await self._json(send, rec, behavior.status, payload, extra)
            return
        await self._guarded(receive, rec, self._respond(send, rec, body, behavior))

    def _release_stream(self, rec: RequestRecord) -> None:
        if rec.stream and not rec.released:
            rec.released = True
            self.active_streams -= 1

    def _finish_stream(self, rec: RequestRecord) -> None:
        """Count a stream as done *before* its last bytes leave.

        A client that has read the final chunk then always sees the counters and the record already
        updated; counting after the send raced with it (the client could read `[DONE]` before this
        loop came back to the finished task)."""
        rec.outcome = "completed"
        self.completed_streams += 1
        self._release_stream(rec)

    async def _guarded(self, receive: Receive, rec: RequestRecord, coro: Awaitable[None]) -> None:
        """Run the response coroutine, cancelling it when the client disconnects."""

        async def wait_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        gen = asyncio.ensure_future(coro)
        disc = asyncio.ensure_future(wait_disconnect())
        self._tasks.add(gen)
        client_gone = False
        if rec.stream:
            self.active_streams += 1
        try:
            await asyncio.wait({gen, disc}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._tasks.discard(gen)
            self._release_stream(rec)
            if not gen.done():
                client_gone = True
                gen.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await gen
                rec.outcome = "shutdown" if self._stopping else "disconnected"
                if not self._stopping:
                    self.closed_early += 1
            disc.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await disc
        if client_gone:
            return
        if gen.cancelled():  # cancelled by stop(): drop the connection
            rec.outcome = "shutdown"
            raise _AbortConnection
        exc = gen.exception()
        if exc is not None:
            raise exc

    async def _respond(
        self, send: Send, rec: RequestRecord, body: dict[str, Any], b: Behavior
    ) -> None:
        messages: list[Message] = rec.messages or []
        reply = b.reply(messages) if callable(b.reply) else b.reply
        if b.replies:
            with self._lock:
                n = self._reply_counts.get(rec.model or "", 0)
                self._reply_counts[rec.model or ""] = n + 1
            reply = b.replies[n % len(b.replies)]
        if reply is None:
            reply = default_reply(messages)
        if b.echo_key:
            key = rec.api_key or ""
            b64 = base64.b64encode(key.encode()).decode()
            reply += f" key={key} auth=Bearer {key} b64={b64} url={urllib.parse.quote(key)}"
        if b.raw_json is not None:
            raw = b.raw_json.encode()
            rec.status = 200
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(raw)),
            ]
            rec.outcome = "completed"  # before the client can read it
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": raw})
            return
        model = rec.model or ""
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        # Token stream: (kind, text); kind "r" = reasoning field, "c" = content.
        toks: list[tuple[str, str]] = []
        n_reasoning = 0
        if b.reasoning is not None:
            rtoks = tokenize(b.reasoning)
            n_reasoning = len(rtoks)
            if b.reasoning_field == "think_tags":
                toks.append(("c", "<think>"))
                toks.extend(("c", t) for t in rtoks)
                toks.append(("c", "</think>\n\n"))
            else:
                toks.extend(("r", t) for t in rtoks)
        if b.chars_per_token:
            n = b.chars_per_token
            toks.extend(("c", reply[i : i + n]) for i in range(0, len(reply), n))
        else:
            toks.extend(("c", t) for t in tokenize(reply))
        finish = "stop"
        if isinstance(max_tokens, int) and 0 < max_tokens < len(toks):
            toks = toks[:max_tokens]
            finish = "length"
        if b.finish_reason is not None:
            finish = b.finish_reason
        n_prompt = _count_words(messages) if b.prompt_tokens is None else b.prompt_tokens
        n_completion = len(toks) if b.completion_tokens is None else b.completion_tokens
        usage: dict[str, Any] = {
            "prompt_tokens": n_prompt,
            "completion_tokens": n_completion,
            "total_tokens": n_prompt + n_completion,
        }
        if n_reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": n_reasoning}
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        loop = asyncio.get_running_loop()

        if not rec.stream or b.plain_json:
            if b.stall_after is not None:
                rec.outcome = "stalled"
                await asyncio.sleep(_NEVER)
            delay = b.first_token_delay + b.token_delay * max(
                0, -(-len(toks) // max(1, b.tokens_per_chunk)) - 1
            )
            if delay > 0:
                await asyncio.sleep(delay)
            msg: dict[str, Any] = {
                "role": "assistant",
                "content": "".join(t for k, t in toks if k == "c"),
            }
            reasoning = "".join(t for k, t in toks if k == "r")
            if b.reasoning is not None and b.reasoning_field != "think_tags":
                msg[b.reasoning_field] = reasoning
            payload: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
            }
            if not b.no_usage:
                payload["usage"] = usage
            await self._json(send, rec, 200, payload)
            return

        # ---- streaming: pre-encode everything
        head = (
            b'data: {"id":"'
            + cid.encode()
            + b'","object":"chat.completion.chunk","created":'
            + str(created).encode()
            + b',"model":'
            + _dumps(model)
            + b',"choices":[{"index":0,"delta":'
        )
        tail = b',"finish_reason":null}]}\n\n'
        rkey = b'{"' + (b.reasoning_field.encode() if b.reasoning_field != "think_tags" else b"")
        per = max(1, b.tokens_per_chunk)
        chunks: list[bytes] = []
        i = 0
        while i < len(toks):
            group = toks[i : i + per]
            i += per
            # one chunk per run of the same kind inside the group
            parts: list[tuple[str, str]] = []
            for k, t in group:
                if parts and parts[-1][0] == k:
                    parts[-1] = (k, parts[-1][1] + t)
                else:
                    parts.append((k, t))
            for k, t in parts:
                key = rkey + b'":' if k == "r" else b'{"content":'
                chunks.append(head + key + _dumps(t) + b"}" + tail)
        role_chunk = head + b'{"role":"assistant","content":""}' + tail
        if b.padding:
            sizes = [1 << 20] * (b.padding >> 20) + [b.padding % (1 << 20)]
            padding = _dumps(["x" * n for n in sizes if n])
            role_chunk = b'data: {"x_padding":' + padding + b"," + role_chunk[len(b"data: {") :]
        final = head + b'{},"finish_reason":' + _dumps(finish) + b"}]}\n\n"
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        usage_chunk = b""
        if include_usage and not b.no_usage:
            usage_chunk = (
                b'data: {"id":"' + cid.encode() + b'","object":"chat.completion.chunk",'
                b'"created":'
                + str(created).encode()
                + b',"model":'
                + _dumps(model)
                + b',"choices":[],"usage":'
                + _dumps(usage)
                + b"}\n\n"
            )

        rec.status = 200
        if b.framing == "awkward":
            send = _awkward(send)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_SSE_HEADERS, (b"x-request-id", f"req_{uuid.uuid4().hex}".encode())],
            }
        )
        start = loop.time() + b.first_token_delay
        if b.first_token_delay > 0:
            await asyncio.sleep(b.first_token_delay)
        pending = role_chunk  # coalesced with the first content chunk
        if b.raw_chunks:
            raw_events = b"".join(b"data: " + c.encode() + b"\n\n" for c in b.raw_chunks)
            await send(
                {"type": "http.response.body", "body": pending + raw_events, "more_body": True}
            )
            rec.chunks_sent = len(b.raw_chunks)
            last = b"data: " + b.raw_chunks[-1].encode() + b"\n\n"
            while b.raw_repeat:
                await send({"type": "http.response.body", "body": last * 16, "more_body": True})
                rec.chunks_sent += 16
                await asyncio.sleep(0)
            rec.outcome = "cut"
            await send({"type": "http.response.body", "body": b""})
            return
        n = len(chunks)
        for idx in range(n + 1):
            # fault points: after `idx` content chunks
            if b.malformed_after == idx:
                await send(
                    {"type": "http.response.body", "body": pending + _MALFORMED, "more_body": True}
                )
                pending = b""
                if b.malformed_then == "close":
                    rec.outcome = "cut"
                    await send({"type": "http.response.body", "body": b""})
                    return
            if b.output_filter_after == idx:
                err = data_inspection_body(OUTPUT_INSPECTION_MESSAGE)
                rec.outcome = "cut"
                await send(
                    {
                        "type": "http.response.body",
                        "body": pending + b"data: " + _dumps(err) + b"\n\n",
                    }
                )
                return
            if b.cut_after == idx or (b.cut_after is not None and idx == n and b.cut_after > n):
                rec.outcome = "cut"
                if b.cut_mode == "abort":
                    if pending:
                        await send(
                            {"type": "http.response.body", "body": pending, "more_body": True}
                        )
                    raise _AbortConnection
                await send({"type": "http.response.body", "body": pending})
                return
            if b.stall_after == idx or (
                b.stall_after is not None and idx == n and b.stall_after > n
            ):
                if pending:
                    await send({"type": "http.response.body", "body": pending, "more_body": True})
                rec.outcome = "stalled"
                await asyncio.sleep(_NEVER)
            if idx == n:
                break
            if idx > 0 and b.token_delay > 0:
                target = start + idx * b.token_delay
                now = loop.time()
                if target > now:
                    await asyncio.sleep(target - now)
            elif idx & 15 == 15:  # no delay: still let other streams / disconnects run
                await asyncio.sleep(0)
            await send(
                {"type": "http.response.body", "body": pending + chunks[idx], "more_body": True}
            )
            pending = b""
            rec.chunks_sent = idx + 1
        self._finish_stream(rec)
        await send({"type": "http.response.body", "body": pending + final + usage_chunk + _DONE})


def _awkward(send: Any) -> Any:
    """`send`, with each body's events reframed and written in two pieces (see Behavior.framing)."""

    def reframe(event: bytes) -> bytes:
        payload = event.removeprefix(b"data: ")
        try:
            lines = _dumps_lines(json.loads(payload))
        except ValueError:  # [DONE], or malformed on purpose
            lines = [payload]
        return b": keep-alive\r\nevent: message\r\n" + b"".join(
            b"data: " + line + b"\r\n" for line in lines
        )

    async def awkward_send(message: dict[str, Any]) -> None:
        body = message.get("body", b"")
        if message["type"] != "http.response.body" or not body:
            await send(message)
            return
        events = [e for e in body.split(b"\n\n") if e]
        body = b"".join(reframe(e) + b"\r\n" for e in events)
        cut = body.index(b"\r\n") + 1
        await send({"type": "http.response.body", "body": body[:cut], "more_body": True})
        await send({**message, "body": body[cut:]})

    return awkward_send


def _dumps_lines(obj: Any) -> list[bytes]:
    return json.dumps(obj, ensure_ascii=False, indent=1).encode().split(b"\n")


def _fmt_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@contextmanager
def running_fake_openai(**opts: Any) -> Iterator[FakeOpenAI]:
    """``with running_fake_openai(models=[...]) as fake: ...`` — started, stopped on exit."""
    server = FakeOpenAI(**opts)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_openai", description="Fake OpenAI-compatible upstream."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--models", default="fake-model", help="comma-separated model ids")
    parser.add_argument("--strict-models", action="store_true")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--tokens-per-chunk", type=int, default=1)
    parser.add_argument("--reply", default=None, help="fixed reply text (default: echo)")
    parser.add_argument(
        "--reply-words",
        type=int,
        default=0,
        help="fixed reply of N words (benchmarks); overrides --reply",
    )
    parser.add_argument("--reasoning", default=None)
    parser.add_argument(
        "--reasoning-field",
        choices=["reasoning_content", "reasoning", "think_tags"],
        default="reasoning_content",
    )
    parser.add_argument("--moderation-word", action="append", default=None)
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    reply: str | None = args.reply
    if args.reply_words > 0:
        reply = " ".join(f"word{i}" for i in range(args.reply_words))
    default = Behavior(
        reply=reply,
        token_delay=args.token_delay,
        first_token_delay=args.first_token_delay,
        tokens_per_chunk=args.tokens_per_chunk,
        reasoning=args.reasoning,
        reasoning_field=args.reasoning_field,
    )
    server = FakeOpenAI(
        models=[m for m in args.models.split(",") if m],
        default=default,
        strict_models=args.strict_models,
        api_key=args.api_key,
        moderation_words=args.moderation_word or ("forbidden",),
        host=args.host,
        port=args.port,
        loop=args.loop,
        log_level=args.log_level,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    sys.stdout.write(server.base_url + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
