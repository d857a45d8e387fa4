"""Garmin Connect, per athlete: the session tokens we keep, and every Garmin activity we looked at.

The rows are the queue of record: a connection is due when its `next_check_at` has come, and an
activity once handled (sent, found on Strava, came from Strava) is never downloaded again.
"""

from __future__ import annotations

from django.db import models

from accounts.crypto import EncryptedTextField
from accounts.models import Athlete


class GarminConnection(models.Model):
    """An athlete's Garmin Connect session: tokens only (never the password), and how its checks go."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "connected"
        NEEDS_SIGNIN = "needs_signin", "needs sign-in"

    athlete = models.OneToOneField(Athlete, on_delete=models.CASCADE, related_name="garmin")
    # garminconnect's dumps(): DI access and refresh tokens and the client id. The refresh token
    # rotates on every refresh, so this is saved again after every job.
    tokens = EncryptedTextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONNECTED, db_index=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # One job per athlete at a time: whoever sets this (conditional UPDATE) runs; a killed job's lease expires.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # The newest Garmin start seen: the next check lists from it (minus the re-list window).
    newest_start = models.DateTimeField(null=True, blank=True)
    # A backfill asked for (from this date); cleared when its listing has been taken in.
    backfill_since = models.DateField(null=True, blank=True)
    refreshes = models.PositiveIntegerField(default=0, help_text="token refreshes seen (the refresh token rotated)")

    def __str__(self) -> str:
        return f"Garmin connection of athlete {self.athlete_id}"

    def __repr__(self) -> str:  # never show the tokens, even in a debugger or an error page
        return f"<GarminConnection athlete={self.athlete_id} status={self.status}>"


class GarminActivity(models.Model):
    """One activity listed by Garmin Connect, and what became of it."""

    class State(models.TextChoices):
        NEW = "new", "waiting to be downloaded"
        SENT = "sent", "downloaded and handed to the uploads"
        ON_STRAVA = "on_strava", "already on Strava"
        FROM_STRAVA = "from_strava", "came to Garmin from Strava"
        FAILED = "failed", "failed"

    HANDLED = (State.SENT, State.ON_STRAVA, State.FROM_STRAVA)

    athlete = models.ForeignKey(Athlete, on_delete=models.CASCADE, related_name="garmin_activities")
    garmin_id = models.BigIntegerField()
    name = models.CharField(max_length=300, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    type_key = models.CharField(max_length=60, blank=True, help_text="Garmin's activityType.typeKey")
    sport = models.CharField(max_length=40, blank=True, help_text="as Strava's sport_type")
    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW, db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    strava_activity_id = models.BigIntegerField(null=True, blank=True, help_text="the Strava activity it matched")
    upload_batch = models.ForeignKey("uploads.UploadBatch", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    listed_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start_time", "-id"]
        constraints = [models.UniqueConstraint(fields=["athlete", "garmin_id"], name="garmin_activity_unique")]
        indexes = [models.Index(fields=["athlete", "state", "start_time"], name="garmin_activity_backlog")]
        verbose_name_plural = "Garmin activities"

    def __str__(self) -> str:
        return f"Garmin activity {self.garmin_id} ({self.state})"


class GarminPacer(models.Model):
    """The one row that paces Garmin requests across the deployment (all athletes share one address).

    `held_until` is a lease taken with a conditional UPDATE around each request, so requests never
    overlap, whatever process sends them; `next_at` spaces them; `backoff_until` is set by a 429.
    """

    held_until = models.DateTimeField(null=True, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)
    backoff_until = models.DateTimeField(null=True, blank=True)
    backoff_seconds = models.FloatField(default=0.0, help_text="the last back-off; doubles on each 429 in a row")
    requests = models.PositiveBigIntegerField(default=0)
    rate_limited = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return "Garmin pacer"
