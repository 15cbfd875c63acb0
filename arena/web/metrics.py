"""`/metrics` in the Prometheus text format: what this process (or, in multiprocess mode, every
worker) recorded, plus each model's circuit-breaker state read from the database when scraped."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.store.tables import Endpoint, utcnow

log = logging.getLogger("arena")


class BreakerCollector(Collector):
    """Each model's breaker (open = paused after failures) and its failures in a row."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read the endpoints now: the database is what every worker shares."""
        now = utcnow()
        with Session(self.engine) as session:
            rows = session.exec(
                select(Endpoint.name, Endpoint.paused_until, Endpoint.consecutive_failures).where(
                    Endpoint.retired == False  # noqa: E712 - SQL, not Python
                )
            ).all()
        breaker = GaugeMetricFamily(
            "arena_breaker_open",
            "1 while the model is paused by the circuit breaker",
            labels=["model"],
        )
        failures = GaugeMetricFamily(
            "arena_consecutive_failures", "Failed answers in a row, per model", labels=["model"]
        )
        for name, paused_until, consecutive in rows:
            breaker.add_metric([name], 1.0 if paused_until and paused_until > now else 0.0)
            failures.add_metric([name], float(consecutive))
        yield breaker
        yield failures


def registry(engine: Engine) -> CollectorRegistry:
    """What a scrape reads: every worker's files in multiprocess mode, else this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        found = CollectorRegistry()
        MultiProcessCollector(found)  # type: ignore[no-untyped-call]
    else:
        found = CollectorRegistry(auto_describe=True)
        found.register(_Process())
    found.register(BreakerCollector(engine))
    return found


class _Process(Collector):
    """The default registry's metrics (this process's counters, histograms, process stats)."""

    def collect(self) -> Iterator[Any]:
        """Everything the default registry holds."""
        yield from REGISTRY.collect()


def exposition(engine: Engine) -> bytes:
    """The scrape's body."""
    return generate_latest(registry(engine))


def serve_separately(engine: Engine, address: str) -> Any:
    """`/metrics` on its own `host:port` (no token); None when another worker holds it."""
    host, _, port = address.rpartition(":")
    try:
        server, _thread = start_http_server(
            int(port), addr=host or "127.0.0.1", registry=registry(engine)
        )
    except OSError:
        return None  # another worker of this server serves it (all workers' values, from files)
    log.info("metrics on http://%s:%s/metrics", host or "127.0.0.1", port)
    return server
