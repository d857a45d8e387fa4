"""Segments and the athletes' efforts on them.

A `Segment` is shared by every athlete of the deployment (it is Strava's public object); an
effort belongs to one athlete and one activity. Efforts come free with the detailed activity
the warehouse fetches; a segment's details cost one `GET /segments/{id}`, fetched once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Athlete


class Segment(models.Model):
    """A Strava segment: summary fields from any effort (free), details from one call."""

    strava_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=255, blank=True)
    activity_type = models.CharField(max_length=16, blank=True, help_text="Ride or Run")
    distance = models.FloatField(default=0.0, help_text="metres")
    average_grade = models.FloatField(null=True, blank=True, help_text="percent")
    maximum_grade = models.FloatField(null=True, blank=True, help_text="percent")
    elevation_high = models.FloatField(null=True, blank=True)
    elevation_low = models.FloatField(null=True, blank=True)
    total_elevation_gain = models.FloatField(null=True, blank=True, help_text="from the details")
    climb_category = models.PositiveSmallIntegerField(default=0, help_text="0 (none) to 5 (HC)")
    city = models.CharField(max_length=120, blank=True)
    state = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=120, blank=True)
    start_latlng = models.JSONField(null=True, blank=True)
    end_latlng = models.JSONField(null=True, blank=True)
    private = models.BooleanField(default=False)
    hazardous = models.BooleanField(default=False)
    # Strava-wide counts: only the details carry them.
    effort_count = models.PositiveIntegerField(null=True, blank=True)
    athlete_count = models.PositiveIntegerField(null=True, blank=True)
    star_count = models.PositiveIntegerField(null=True, blank=True)
    details = models.JSONField(null=True, blank=True, help_text="DetailedSegment, without one athlete's own stats")
    details_fetched_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A person asked for fresh details; cleared by the fetch.
    details_requested_at = models.DateTimeField(null=True, blank=True)
    # Lease taken before the call, so two workers never fetch the same segment; after a
    # failure it also keeps the segment resting until then.
    details_claim = models.CharField(max_length=32, blank=True)
    details_claimed_until = models.DateTimeField(null=True, blank=True)
    # Strava would not show it (404: private or deleted): no call is spent on it again.
    details_unavailable = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name or 'segment'} ({self.strava_id})"

    @property
    def has_details(self) -> bool:
        return self.details_fetched_at is not None

    @property
    def strava_url(self) -> str:
        return f"{settings.STRAVA_WEB_URL}/segments/{self.strava_id}"


class SegmentEffort(models.Model):
    """One athlete's pass over a segment in one activity (a DetailedSegmentEffort)."""

    strava_id = models.BigIntegerField(unique=True)
    activity = models.ForeignKey("warehouse.Activity", on_delete=models.CASCADE, related_name="segment_efforts")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="efforts")
    athlete = models.ForeignKey(Athlete, on_delete=models.CASCADE, related_name="segment_efforts")
    name = models.CharField(max_length=255, blank=True)
    elapsed_time = models.PositiveIntegerField(help_text="seconds")
    moving_time = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    start_date = models.DateTimeField()
    start_date_local = models.DateTimeField(null=True, blank=True, help_text="wall-clock time where it happened")
    distance = models.FloatField(default=0.0, help_text="metres")
    start_index = models.PositiveIntegerField(null=True, blank=True)
    end_index = models.PositiveIntegerField(null=True, blank=True)
    average_heartrate = models.FloatField(null=True, blank=True)
    max_heartrate = models.FloatField(null=True, blank=True)
    average_watts = models.FloatField(null=True, blank=True)
    device_watts = models.BooleanField(default=False)
    average_cadence = models.FloatField(null=True, blank=True)
    pr_rank = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-3 when among the athlete's best")
    kom_rank = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-10 on the leaderboard")
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [
            models.Index(fields=["athlete", "segment", "start_date"]),
            models.Index(fields=["athlete", "start_date"]),
        ]

    def __str__(self) -> str:
        return f"effort {self.strava_id} on {self.segment_id}"
