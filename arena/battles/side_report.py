"""What a side's end tells the admin: the metrics of its answer, and the log of its failure."""

from __future__ import annotations

import logging

from arena.battles.saves import SideState
from arena.core import metrics
from arena.upstream.failures import UpstreamError

log = logging.getLogger(__name__)


def measure_side(st: SideState, *, first_turn: bool) -> None:
    """The side's answer in the metrics: its battle (first turns), its speed when complete."""
    if first_turn:
        metrics.BATTLES.labels(st.params.name).inc()
    if st.completed:
        metrics.answer_finished(
            st.params.name,
            ttft_ms=st.ttft_ms,
            total_ms=st.total_ms,
            tokens=st.completion_tokens,
        )


def upstream_failure(battle_id: str, side: str, endpoint_id: int, exc: Exception) -> UpstreamError:
    """The failure of one side's upstream call, logged once for the admin."""
    if isinstance(exc, UpstreamError):
        log.warning(
            "battle %s side %s: endpoint %s failed: %s: %.300s",
            battle_id,
            side,
            endpoint_id,
            exc.kind,
            exc.detail,
        )
        return exc
    # Not a failure the upstream code knows: a bug, so with its traceback; the side still ends
    # as failed rather than streaming for ever.
    log.exception("battle %s side %s: endpoint %s: unexpected error", battle_id, side, endpoint_id)
    return UpstreamError("protocol", f"unexpected {exc!r:.300}")
