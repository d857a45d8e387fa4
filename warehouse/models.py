"""The warehouse: every activity of every connected athlete, its sync bookkeeping and its rollups.

`Activity` keeps Strava's SummaryActivity fields as columns (for filters, sorting and stats) and
the raw JSON beside them. The row is also the enrich queue of record: `detail_fetched_at` null
means one `GET /activities/{id}` is still owed. Segment efforts are not stored here: the
segments app reads them from `detail` and sets `efforts_stored_at`.

An activity may also come from a file the athlete gave (source "file"): built from the file with
no call, `strava_id` null until Strava's copy arrives and merges into the same row
(warehouse.services.files). Such a row owes no detail call, so its `detail_fetched_at` is set.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Athlete


class Activity(models.Model):
    """One Strava activity: summary columns, raw summary and detail JSON, enrich bookkeeping."""

    class Source(models.TextChoices):
        API = "api", "Strava API"
        EXPORT = "export", "Strava export"
        FILE = "file", "activity file"

    # Null while the activity is known only from a file; unique when set (SQLite and PostgreSQL
    # alike let a unique column hold many NULLs, and ON CONFLICT (strava_id) keeps working).
    strava_id = models.BigIntegerField(unique=True, null=True, blank=True)
    athlete = models.ForeignKey(Athlete, on_delete=models.CASCADE, related_name="activities")
    name = models.CharField(max_length=255, blank=True)
    sport_type = models.CharField(max_length=40, blank=True)
    type = models.CharField(max_length=40, blank=True, help_text="Strava's older, coarser activity type")
    start_date = models.DateTimeField()
    start_date_local = models.DateTimeField(null=True, blank=True, help_text="local wall-clock time, stored as if UTC")
    # The local calendar day: what filters and rollups use (a run at 23:30 belongs to its own day).
    start_day = models.DateField()
    timezone = models.CharField(max_length=64, blank=True)
    distance = models.FloatField(default=0.0, help_text="metres")
    moving_time = models.PositiveIntegerField(default=0, help_text="seconds")
    elapsed_time = models.PositiveIntegerField(default=0, help_text="seconds")
    total_elevation_gain = models.FloatField(default=0.0, help_text="metres")
    elev_high = models.FloatField(null=True, blank=True)
    elev_low = models.FloatField(null=True, blank=True)
    average_speed = models.FloatField(default=0.0, help_text="metres per second")
    max_speed = models.FloatField(default=0.0, help_text="metres per second")
    average_cadence = models.FloatField(null=True, blank=True)
    average_watts = models.FloatField(null=True, blank=True)
    weighted_average_watts = models.PositiveIntegerField(null=True, blank=True)
    max_watts = models.PositiveIntegerField(null=True, blank=True)
    kilojoules = models.FloatField(null=True, blank=True)
    device_watts = models.BooleanField(default=False)
    has_heartrate = models.BooleanField(default=False)
    average_heartrate = models.FloatField(null=True, blank=True)
    max_heartrate = models.FloatField(null=True, blank=True)
    calories = models.FloatField(null=True, blank=True, help_text="from the detail or the export")
    achievement_count = models.PositiveIntegerField(default=0)
    kudos_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    athlete_count = models.PositiveIntegerField(default=1)
    photo_count = models.PositiveIntegerField(default=0)
    gear_id = models.CharField(max_length=32, blank=True)
    gear_name = models.CharField(max_length=255, blank=True, help_text="from the detail or the export")
    external_id = models.CharField(max_length=255, blank=True)
    upload_id = models.BigIntegerField(null=True, blank=True)
    private = models.BooleanField(default=False)
    visibility = models.CharField(max_length=20, blank=True)
    trainer = models.BooleanField(default=False)
    commute = models.BooleanField(default=False)
    manual = models.BooleanField(default=False)
    flagged = models.BooleanField(default=False)
    workout_type = models.PositiveSmallIntegerField(null=True, blank=True)
    start_lat = models.FloatField(null=True, blank=True)
    start_lng = models.FloatField(null=True, blank=True)
    end_lat = models.FloatField(null=True, blank=True)
    end_lng = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    export_file = models.CharField(max_length=255, blank=True, help_text="the activity file inside a Strava export")
    # The uploads.Upload whose file this activity was built from (or linked to). A plain id, not a
    # foreign key: the uploads app sits above the warehouse, which never depends on it.
    upload_pk = models.BigIntegerField(null=True, blank=True, db_index=True,
                                       help_text="the Upload (our id) whose file this activity came from")
    device_name = models.CharField(max_length=255, blank=True, help_text="the recording device, from the file")
    detail_fetched_at = models.DateTimeField(null=True, blank=True)
    efforts_stored_at = models.DateTimeField(null=True, blank=True)
    # Enrich bookkeeping: a lease taken before the call, and a rest after a refusal or failure.
    enrich_claimed_until = models.DateTimeField(null=True, blank=True)
    enrich_not_before = models.DateTimeField(null=True, blank=True)
    enrich_attempts = models.PositiveSmallIntegerField(default=0)
    enrich_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Long text and JSON last: SQLite reads a row's columns in order, so scans and counts over
    # the columns above never touch the (large) JSON pages.
    summary_polyline = models.TextField(blank=True)
    description = models.TextField(blank=True)
    summary = models.JSONField(null=True, blank=True, help_text="SummaryActivity as Strava listed it")
    detail = models.JSONField(null=True, blank=True, help_text="DetailedActivity with all segment efforts")
    export_row = models.JSONField(null=True, blank=True, help_text="the activities.csv row it was imported from")

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            # One per sort of the list page, ending in -id (the tie-break): a deep page then walks
            # the index alone instead of sorting the athlete's every activity.
            models.Index(fields=["athlete", "-start_date", "-id"], name="activity_athlete_start"),
            models.Index(fields=["athlete", "sport_type", "-start_date", "-id"], name="activity_athlete_sport"),
            models.Index(fields=["athlete", "-distance", "-id"], name="activity_athlete_distance"),
            models.Index(fields=["athlete", "-moving_time", "-id"], name="activity_athlete_moving"),
            models.Index(fields=["athlete", "-total_elevation_gain", "-id"], name="activity_athlete_elevation"),
            # The enrich backlog, newest first, stays small and fast however large the table grows.
            models.Index(fields=["athlete", "-start_date", "-id"], name="activity_enrich_backlog",
                         condition=Q(detail_fetched_at__isnull=True)),
            # Details stored but efforts not yet (the segments app's free backlog): only rows in flight.
            models.Index(fields=["-start_date", "id"], name="activity_efforts_backlog",
                         condition=Q(detail__isnull=False, efforts_stored_at__isnull=True)),
        ]

    def __str__(self) -> str:
        # Ids only: admin pages and logs show this to staff, who must not see athletes' activity names.
        return f"activity {self.strava_id}" if self.strava_id else f"file activity {self.pk}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.start_date is not None:  # derived, so it can never disagree with the start
            self.start_day = local_day(self.start_date_local, self.start_date)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        # By Strava's id once Strava has it (the address people know); a file's activity by ours until then.
        if self.strava_id is not None:
            return reverse("warehouse:activity", args=[self.strava_id])
        return reverse("warehouse:file-activity", args=[self.pk])

    @property
    def strava_url(self) -> str:
        return f"{settings.STRAVA_WEB_URL}/activities/{self.strava_id}" if self.strava_id else ""

    @property
    def on_strava(self) -> bool:
        """Strava has this activity (a file row has none until its copy arrives)."""
        return self.strava_id is not None

    @property
    def has_detail(self) -> bool:
        return self.detail_fetched_at is not None


def local_day(start_date_local, start_date) -> date:
    """The activity's calendar day where it happened (UTC when the local time is unknown)."""
    return (start_date_local or start_date).date()


class SyncState(models.Model):
    """Where one athlete's sync stands: the incremental watermark and the resumable backfill walk."""

    athlete = models.OneToOneField(Athlete, on_delete=models.CASCADE, related_name="sync_state")
    # The newest start seen: the next incremental pull asks for activities after it.
    watermark = models.DateTimeField(null=True, blank=True)
    # An incremental pull in progress: the next page to ask for, and the newest start it has seen
    # (it becomes the watermark only when the last page is in, so a stop loses nothing).
    pull_page = models.PositiveIntegerField(default=0)
    pull_newest = models.DateTimeField(null=True, blank=True)
    # The backfill walks back through history: the next page is the one before this start.
    backfill_cursor = models.DateTimeField(null=True, blank=True)
    backfill_done = models.BooleanField(default=False)
    backfill_done_at = models.DateTimeField(null=True, blank=True)
    # The sweep's next incremental pull (null: at once), spread over the interval per athlete.
    next_pull_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # No pull before this (the quota said "not before", or a failure rests the athlete).
    not_before = models.DateTimeField(null=True, blank=True)
    # A worker holds this athlete's pull until then (a vanished worker's claim simply expires).
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"sync state of {self.athlete_id}"

    @property
    def pull_in_progress(self) -> bool:
        return self.pull_page > 0


class SyncRun(models.Model):
    """The audit log: one row per pull, backfill, enrich or import run, with its calls and counts."""

    class Kind(models.TextChoices):
        PULL = "pull"
        ENRICH = "enrich"
        IMPORT = "import"

    class Trigger(models.TextChoices):
        COMMAND = "command"
        DISPATCHER = "dispatcher"
        TASK = "task"
        WEB = "web"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    athlete = models.ForeignKey(Athlete, on_delete=models.CASCADE, related_name="sync_runs", null=True, blank=True)
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.COMMAND)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    calls = models.PositiveIntegerField(default=0, help_text="Strava API calls spent")
    pages = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    notes = models.JSONField(default=dict, blank=True, help_text="what the run reported: unknown columns, options")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["athlete", "kind", "-started_at"], name="syncrun_athlete_kind")]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} of {self.athlete_id}"

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Rollup(models.Model):
    """Weekly and monthly totals per sport, kept beside the activities so stats never scan them all."""

    class Period(models.TextChoices):
        WEEK = "week"
        MONTH = "month"

    athlete = models.ForeignKey(Athlete, on_delete=models.CASCADE, related_name="rollups")
    period = models.CharField(max_length=5, choices=Period.choices)
    start = models.DateField(help_text="Monday of the week, or the first of the month")
    sport_type = models.CharField(max_length=40, blank=True)
    count = models.PositiveIntegerField(default=0)
    distance = models.FloatField(default=0.0)
    moving_time = models.PositiveBigIntegerField(default=0)
    elapsed_time = models.PositiveBigIntegerField(default=0)
    elevation_gain = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["athlete", "period", "start", "sport_type"], name="rollup_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.start} {self.sport_type}: {self.count}"
