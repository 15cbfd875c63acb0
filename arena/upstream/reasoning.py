"""Reasoning inline as `<think>…</think>` at the start of content, kept apart from the answer."""

from __future__ import annotations

from typing import Literal

from arena.upstream.client import Delta

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Splits inline `<think>…</think>` at the start of a stream into reasoning and content."""

    def __init__(self) -> None:
        self._buf = ""
        self._state: Literal["start", "think", "content"] = "start"

    def feed(self, text: str) -> list[Delta]:
        """The deltas that `text` completes; a partial tag is held back until it is decided."""
        out: list[Delta] = []
        self._buf += text
        while self._buf:
            if self._state == "content":
                out.append(Delta("content", self._buf))
                self._buf = ""
            elif self._state == "start":
                stripped = self._buf.lstrip()
                if stripped.startswith(THINK_OPEN):
                    self._buf = stripped[len(THINK_OPEN) :]
                    self._state = "think"
                elif THINK_OPEN.startswith(stripped):
                    break  # could still become "<think>"
                else:
                    self._state = "content"
            else:
                end = self._buf.find(THINK_CLOSE)
                if end >= 0:
                    if end:
                        out.append(Delta("reasoning", self._buf[:end]))
                    self._buf = self._buf[end + len(THINK_CLOSE) :].lstrip("\n")
                    self._state = "content"
                    continue
                keep = _partial_suffix(self._buf, THINK_CLOSE)
                if len(self._buf) > keep:
                    out.append(Delta("reasoning", self._buf[: len(self._buf) - keep]))
                self._buf = self._buf[len(self._buf) - keep :]
                break
        return out

    def flush(self) -> list[Delta]:
        """Whatever is still held back at the end of the stream."""
        rest, self._buf = self._buf, ""
        if not rest:
            return []
        return [Delta("reasoning" if self._state == "think" else "content", rest)]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0
