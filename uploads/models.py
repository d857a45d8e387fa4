from __future__ import annotations

from django.db import models

from accounts.models import Athlete


class UploadBatch(models.Model):
    """One drop of files (a browser upload, a folder, a Garmin sync) and its after-action report."""

    class Source(models.TextChoices):
        WEB = "web", "browser"
        FOLDER = "folder", "folder"
        GARMIN = "garmin", "Garmin Connect"

    athlete = models.ForeignKey(Athlete, on_delete=models.CASCADE, related_name="upload_batches")
    source = models.CharField(max_length=10, choices=Source.choices)
    label = models.CharField(max_length=500, blank=True, help_text="folder path or a short description")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_count = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="files per final state, set when finished")
    api_calls = models.PositiveIntegerField(default=0, help_text="Strava calls spent on this batch")
    # "Keep here only": the files fill the warehouse and are never sent (their uploads settle as local).
    local_only = models.BooleanField(default=False, help_text="keep the files here; send nothing to Strava")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "upload batches"

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.get_source_display()}, {self.file_count} files)"


class Upload(models.Model):
    """One file on its way to Strava. The row is the queue of record: tasks only nudge it."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        JUNK = "junk"
        DUPLICATE = "duplicate"
        FAILED = "failed"
        QUEUED = "queued"
        UPLOADING = "uploading"
        PROCESSING = "processing"
        DONE = "done"
        LOCAL = "local", "kept here, not sent"

    FINAL = (Status.JUNK, Status.DUPLICATE, Status.FAILED, Status.DONE, Status.LOCAL)
    # An activity file of the athlete's own (not junk, refused or a byte-for-byte copy): the
    # warehouse holds its activity, whether or not it goes to Strava.
    ACTIVITY_FILE = (Status.QUEUED, Status.UPLOADING, Status.PROCESSING, Status.DONE, Status.DUPLICATE, Status.LOCAL)

    batch = models.ForeignKey(UploadBatch, on_delete=models.CASCADE, related_name="uploads")
    athlete = models.ForeignKey(Athlete, on_delete=models.CASCADE, related_name="uploads")
    original_name = models.CharField(max_length=1000, help_text="name or path inside the folder/archive")
    source_path = models.CharField(max_length=2000, blank=True, help_text="the file on disk, for folder tidying")
    file = models.FileField(upload_to="uploads/", max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    data_type = models.CharField(max_length=10, blank=True)
    file_type = models.CharField(max_length=40, blank=True, help_text="FIT file type, or gpx / tcx")
    start_time = models.DateTimeField(null=True, blank=True)
    sport = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    strava_upload_id = models.BigIntegerField(null=True, blank=True)
    activity_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    duplicate_of_activity = models.BigIntegerField(null=True, blank=True)
    duplicate_of_upload = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # The file read into the warehouse (uploads.services.warehousing): null while owed; a lease
    # while a worker reads it, so a worker that vanished leaves it to the next.
    warehoused_at = models.DateTimeField(null=True, blank=True)
    warehouse_claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["athlete", "sha256"]),
            models.Index(fields=["athlete", "status"]),
            # The files still owed to the warehouse: small however many uploads there are.
            models.Index(fields=["id"], name="upload_warehouse_backlog",
                         condition=models.Q(warehoused_at__isnull=True,
                                            status__in=["queued", "uploading", "processing", "done", "duplicate", "local"])),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    @property
    def external_id(self) -> str:
        """Stable per upload: a retried POST can never become a second activity."""
        return f"stravasync-{self.pk}"

    @property
    def display_name(self) -> str:
        return self.original_name.rsplit("/", 1)[-1]

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def reached_strava(self) -> bool:
        """A POST was made (answered, refused or lost in transit): only then can another try end otherwise."""
        return self.attempts > 0 or self.posted_at is not None or self.strava_upload_id is not None

    @property
    def recorded_label(self) -> str:
        """What the file records, as a person reads it: "Run · 2024-05-01 06:12 UTC" (the recorded start)."""
        start = f"{self.start_time:%Y-%m-%d %H:%M} UTC" if self.start_time else ""
        return " · ".join(part for part in (self.sport, start) if part)

    @property
    def can_retry(self) -> bool:
        """Failed at Strava or on the way there; a file that failed before any call would fail the same."""
        return self.status == self.Status.FAILED and bool(self.file.name) and self.reached_strava

    @property
    def can_upload_anyway(self) -> bool:
        """Classified as junk, but a person may know better."""
        return self.status == self.Status.JUNK and bool(self.file.name)


class UploadEvent(models.Model):
    """The state history of an upload: every transition, when and why."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.from_status or '·'} → {self.to_status}"
