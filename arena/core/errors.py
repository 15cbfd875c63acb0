"""The one error type the voter-facing code raises: an HTTP status and a message for people."""

from __future__ import annotations


class BattleError(Exception):
    """A request the battle's state does not allow; `status` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class MatchmakingError(ValueError):
    """The candidates or the policy cannot produce a battle."""
