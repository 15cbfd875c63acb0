"""Logging a failure that may repeat every round (the leaderboard refresher) without a flood."""

from __future__ import annotations

import logging

log = logging.getLogger("arena.votes.board")

# The failure kinds already logged with a traceback (per process).
_logged_kinds: set[str] = set()


def log_failure(what: str, exc: BaseException) -> None:
    """One line per failure with its error; the traceback only the first time of its kind, so a
    refresh that fails every round does not flood the log."""
    kind = f"{what.split(' ', 2)[0]}:{type(exc).__qualname__}"
    error = " ".join(str(exc).split())[:300]
    if kind in _logged_kinds:
        log.error("%s: %s: %s (repeated; traceback logged once)", what, type(exc).__name__, error)
        return
    _logged_kinds.add(kind)
    log.error("%s: %s: %s", what, type(exc).__name__, error, exc_info=exc)
