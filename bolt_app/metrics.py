"""Prometheus metrics and the health check, served by the web process at /metrics and /healthz.

`Metrics` owns its own `CollectorRegistry` (never the global one), so every process, app and
test builds an independent instance and passes it to the components that record into it.

Counters and poll durations are recorded by the poller and the delivery worker of the same
process (`serve`). Queue depth and last success per resource are state in the database; their
owners' stores read them and `bolt_app.runtime.housekeeping` feeds them in here, so a web
process whose polls and deliveries run in separate `worker` processes still reports them for
the whole deployment. This module imports no other part of the product.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

DATABASE_CHECK_SECONDS = 2.0  # a health check that hangs is as bad as a failed one
POLL_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    """Queue depth, delivery attempts by outcome, poll durations, last success per resource."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.queue_depth = Gauge(
            "mlc_delivery_queue_depth",
            "Deliveries by status (pending, sending, failed = waiting to retry, dead).",
            ["status"],
            registry=self.registry,
        )
        self.delivery_attempts = Counter(
            "mlc_delivery_attempts",
            "Slack delivery attempts by outcome (sent, rate_limited, retry, dead, ...).",
            ["outcome"],
            registry=self.registry,
        )
        self.poll_duration = Histogram(
            "mlc_poll_duration_seconds",
            "Duration of one poll of one resource.",
            ["record_type", "outcome"],
            buckets=POLL_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.last_success = Gauge(
            "mlc_poll_last_success_timestamp_seconds",
            "Unix time of the last successful poll of each resource.",
            ["team_id", "company", "record_type"],
            registry=self.registry,
        )

    def record_delivery(self, outcome: str) -> None:
        self.delivery_attempts.labels(outcome=outcome).inc()

    def set_queue_depth(self, counts: Mapping[str, int]) -> None:
        for status, count in counts.items():
            self.queue_depth.labels(status=status).set(count)

    def record_poll(
        self,
        *,
        team_id: str,
        company: str,
        record_type: str,
        seconds: float,
        succeeded_at: datetime | None,
    ) -> None:
        """One poll of one resource; `succeeded_at` is None when it failed."""
        outcome = "ok" if succeeded_at is not None else "error"
        self.poll_duration.labels(record_type=record_type, outcome=outcome).observe(seconds)
        if succeeded_at is not None:
            self.last_success.labels(team_id=team_id, company=company, record_type=record_type).set(
                succeeded_at.timestamp()
            )

    def set_last_successes(self, successes: Iterable[tuple[str, str, str, datetime]]) -> None:
        """(team_id, company, record_type, succeeded_at) of every resource that has succeeded."""
        for team_id, company, record_type, succeeded_at in successes:
            self.last_success.labels(team_id=team_id, company=company, record_type=record_type).set(
                succeeded_at.timestamp()
            )

    def render(self) -> tuple[bytes, str]:
        """The body and content type of a /metrics answer."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


@dataclass(frozen=True, slots=True)
class Health:
    database: bool
    scheduler: bool | None  # None: this process runs no scheduler (the web role)

    @property
    def ok(self) -> bool:
        return self.database and self.scheduler is not False

    def as_dict(self) -> dict[str, object]:
        """What this process runs and whether it works: no "scheduler" where none runs."""
        answer: dict[str, object] = {"ok": self.ok, "database": self.database}
        if self.scheduler is not None:
            answer["scheduler"] = self.scheduler
        return answer


async def healthz(engine: AsyncEngine, *, scheduler_alive: bool | None) -> Health:
    """What /healthz reports: can we reach the database, and is the scheduler running (None
    where this process runs none)."""
    return Health(database=await _database_reachable(engine), scheduler=scheduler_alive)


async def _database_reachable(engine: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(DATABASE_CHECK_SECONDS), engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except Exception:  # any failure to connect or answer is "unreachable"
        return False
    return True
