from __future__ import annotations

from django.db import models


class QuotaState(models.Model):
    """The application-wide Strava budget: one row per client id, shared by every process.

    `used_*` counts permits granted in the current window plus what Strava's headers report
    (the larger of the two), so calls in flight and calls made by other deployments of the
    same client id are both counted.
    """

    client_id = models.CharField(max_length=64, unique=True)
    limit_short = models.PositiveIntegerField()
    limit_daily = models.PositiveIntegerField()
    read_limit_short = models.PositiveIntegerField()
    read_limit_daily = models.PositiveIntegerField()
    window_index = models.BigIntegerField(default=0)
    day_index = models.BigIntegerField(default=0)
    used_short = models.PositiveIntegerField(default=0)
    used_daily = models.PositiveIntegerField(default=0)
    read_used_short = models.PositiveIntegerField(default=0)
    read_used_daily = models.PositiveIntegerField(default=0)
    # Permits granted in the last seconds of a window: their calls may reach Strava after its
    # clock has turned, so they also count in the next window.
    edge_short = models.PositiveIntegerField(default=0)
    edge_read_short = models.PositiveIntegerField(default=0)
    # The window whose real usage a response's headers have shown; until then only probe permits
    # are granted in it (other clients of the client id may have spent it before we looked).
    confirmed_window = models.BigIntegerField(null=True, blank=True)
    probes_short = models.PositiveIntegerField(default=0)
    probes_at = models.DateTimeField(null=True, blank=True)
    closed_until = models.DateTimeField(null=True, blank=True)
    rate_limited_total = models.PositiveIntegerField(default=0, help_text="429 answers received, ever")
    inactive_since = models.DateTimeField(null=True, blank=True)
    inactive_message = models.CharField(max_length=500, blank=True)
    inactive_probe_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "quota state"

    def __str__(self) -> str:
        return f"quota for client {self.client_id}"


class QuotaWindow(models.Model):
    """One finished (or closed) 15-minute window's usage, kept for the operator's 24-hour chart."""

    client_id = models.CharField(max_length=64)
    window_index = models.BigIntegerField(help_text="window start = index × QUOTA_WINDOW_SECONDS")
    used = models.PositiveIntegerField(default=0)
    read_used = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField(default=0, help_text="429 answers in this window")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "window_index"], name="quotawindow_unique")]

    def __str__(self) -> str:
        return f"window {self.window_index} of {self.client_id}"


class Heartbeat(models.Model):
    """When a long-running loop (the dispatcher) last ticked: /healthz says it is stale otherwise."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%H:%M:%S}"


class FairShareTurn(models.Model):
    """Whose turn came last in one fair-share rotation (fair.fair_pick), shared by every dispatcher.

    In the database rather than a per-process cache, so that two dispatchers, or one restarted,
    keep one fair order.
    """

    key = models.CharField(max_length=100, unique=True)
    last_athlete_id = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key}: last served athlete {self.last_athlete_id}"
