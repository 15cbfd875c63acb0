"""What an upstream failure was, in kinds a person can act on, and what the voter is told."""

from __future__ import annotations

import aiohttp
import openai


class UpstreamError(Exception):
    """An answer that could not be completed. `kind` is for people; `detail` only for admins."""

    def __init__(self, kind: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status


VOTER_MESSAGES = {
    "auth": "The model's provider refused the request (authentication).",
    "not_found": "The model's provider does not know this model.",
    "rate_limited": "The model's provider is rate-limiting requests.",
    "timeout": "The model took too long to answer.",
    "stalled": "The model stopped sending its answer.",
    "connection": "The model's server could not be reached.",
    "content_filter": "The model's provider refused to answer this prompt (content filter).",
    "incomplete": "The answer ended before it was complete.",
    "protocol": "The model's server sent a malformed answer.",
    "server": "The model's server had an error.",
    "cancelled": "Generation was stopped.",
    "interrupted": "Generation was interrupted.",
}


def voter_message(kind: str) -> str:
    """A neutral message for the voter: it never names the model or quotes the upstream."""
    return VOTER_MESSAGES.get(kind, "The model could not answer.")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, outermost first."""
    out: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in out:
        out.append(link)
        link = link.__cause__ or link.__context__
    return out


def _root(exc: BaseException) -> BaseException:
    return _chain(exc)[-1]


def timed_out(exc: BaseException) -> bool:
    """Whether a timeout error is one. The SDK's aiohttp transport reports a refused or dropped
    connection as `ConnectTimeout` too; only a clock that ran out is a timeout here."""
    chain = _chain(exc)
    if any(isinstance(e, TimeoutError) for e in chain):
        return True
    return not any(isinstance(e, aiohttp.ClientError) for e in chain)


def classify(exc: BaseException) -> UpstreamError:
    """Turn whatever the client raised into an UpstreamError with a kind a person can act on."""
    if isinstance(exc, UpstreamError):
        return exc
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIStatusError):
        # An error event inside a stream, e.g. Model Studio flagging the *output* mid-answer.
        body = exc.body if isinstance(exc.body, dict) else {}
        code = str(body.get("code") or body.get("type") or "").lower()
        if "data_inspection" in code or "datainspection" in code or "content_filter" in code:
            return UpstreamError("content_filter", f"stream error: {exc.message}")
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        code = str(body.get("code") or body.get("type") or "").lower()
        detail = f"HTTP {exc.status_code}: {exc.message}"
        if "data_inspection" in code or "datainspection" in code or "content_filter" in code:
            return UpstreamError("content_filter", detail, status=exc.status_code)
        kind = {401: "auth", 403: "auth", 404: "not_found", 429: "rate_limited"}.get(
            exc.status_code, "server"
        )
        if exc.status_code == 400 and "inappropriate" in exc.message.lower():
            kind = "content_filter"
        return UpstreamError(kind, detail, status=exc.status_code)
    if isinstance(exc, openai.APITimeoutError | TimeoutError) and timed_out(exc):
        return UpstreamError("timeout", f"timed out: {exc!r}")
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError("connection", f"connection failed: {_root(exc)!r}")
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamError("connection", f"connection failed: {exc.__cause__ or exc!r}")
    if isinstance(exc, ValueError | LookupError | TypeError | AttributeError | RecursionError):
        return UpstreamError("protocol", f"malformed response: {exc!r}")
    return UpstreamError("server", f"{type(exc).__name__}: {exc}")
