"""/metrics: the Strava client's counters plus gauges computed from the database at scrape time."""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from stravasync.strava import quota

from .operator import connected_athletes_count, heartbeat_age, webhooks_status


class SyncCollector(Collector):
    """Quota use and limits, 429s ever, backlog sizes, the subscription state, capacity, heartbeat, webhooks."""

    def collect(self) -> Iterator[Metric]:
        status = quota.quota_status()
        used = GaugeMetricFamily("stravasync_quota_used", "Strava calls counted in the current window or day",
                                 labels=["kind", "period"])
        limit = GaugeMetricFamily("stravasync_quota_limit", "Strava's limit per window or day",
                                  labels=["kind", "period"])
        for kind in ("overall", "read"):
            for period in ("window", "daily"):
                used.add_metric([kind, period], status["usage"][kind][period])
                limit.add_metric([kind, period], status["limits"][kind][period])
        yield used
        yield limit
        limited = CounterMetricFamily("stravasync_quota_rate_limited", "429 answers recorded by the quota, ever")
        limited.add_metric([], status["rate_limited_total"])
        yield limited
        backlog = GaugeMetricFamily("stravasync_backlog_calls", "Calls each backlog still needs", labels=["backlog"])
        for row in status["backlog"]:
            backlog.add_metric([row["backlog"]], row["calls"])
        yield backlog
        yield GaugeMetricFamily("stravasync_subscription_inactive", "1 while Strava answers 403 Inactive",
                                value=1 if status["subscription_inactive"] else 0)
        yield GaugeMetricFamily("stravasync_athletes_connected", "Connected athletes", value=connected_athletes_count())
        yield GaugeMetricFamily("stravasync_athletes_capacity", "Athletes this application may connect",
                                value=settings.STRAVA_ATHLETE_CAPACITY)
        age = heartbeat_age()
        yield GaugeMetricFamily("stravasync_dispatcher_heartbeat_age_seconds", "Seconds since the dispatcher ticked",
                                value=-1 if age is None else age)
        yield from self._webhooks()

    def _webhooks(self) -> Iterator[Metric]:
        # Gauges over the last 24 h, computed from the event rows: right whichever process received them.
        hooks = webhooks_status()
        yield GaugeMetricFamily("stravasync_webhook_subscription_live", "1 while our push subscription is live",
                                value=1 if hooks["subscription"] else 0)
        lag = GaugeMetricFamily("stravasync_webhook_lag_seconds",
                                "Seconds from Strava's event time to our processing, last 24 h (-1: no event)",
                                labels=["stat"])
        lag.add_metric(["median"], -1 if hooks["lag"].median is None else hooks["lag"].median)
        lag.add_metric(["max"], -1 if hooks["lag"].max is None else hooks["lag"].max)
        yield lag
        deliveries = hooks["deliveries"]
        received = GaugeMetricFamily("stravasync_webhook_events_received_24h", "Events received in the last 24 h",
                                     labels=["object_type", "aspect_type"])
        for kind, n in deliveries.by_type.items():
            received.add_metric(kind.split(" ", 1), n)
        yield received
        yield GaugeMetricFamily("stravasync_webhook_duplicates_24h", "Duplicate deliveries recognised, last 24 h",
                                value=deliveries.duplicates)
        yield GaugeMetricFamily("stravasync_webhook_events_failed_24h", "Events whose processing failed, last 24 h",
                                value=deliveries.failed)
        yield GaugeMetricFamily("stravasync_webhook_events_pending", "Events not processed yet",
                                value=deliveries.pending)


def metrics_text() -> bytes:
    """Counters of this process (or of every process, with PROMETHEUS_MULTIPROC_DIR) and the gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(SyncCollector())
    return generate_latest(counters) + generate_latest(gauges)
