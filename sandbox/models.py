"""The simulator's own tables: Strava's objects as Strava would store them, plus its quota and faults.

Ids start in Strava's ranges (see migration 0002) so that activity and upload ids exceed 32 bits,
as real ones do, and an athlete id is never mistaken for an activity id.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.timezone import now


def _scopes(text: str) -> set[str]:
    return {s for s in text.split(",") if s}


class SimAthlete(models.Model):
    username = models.CharField(max_length=64, blank=True)
    firstname = models.CharField(max_length=64)
    lastname = models.CharField(max_length=64)
    city = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=64, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    premium = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA name")
    home_lat = models.FloatField(default=0.0)
    home_lng = models.FloatField(default=0.0)
    weight = models.FloatField(default=0.0)
    ftp = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated athlete"

    def __str__(self) -> str:
        return f"{self.firstname} {self.lastname} ({self.pk})"


class SimAuthCode(models.Model):
    """An OAuth authorization code: single use, valid for ten minutes."""

    code = models.CharField(max_length=64, unique=True)
    athlete = models.ForeignKey(SimAthlete, on_delete=models.CASCADE, related_name="codes")
    client_id = models.CharField(max_length=64)
    scope = models.CharField(max_length=255, help_text="accepted scopes, comma-separated")
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for athlete {self.athlete_id}"


class SimToken(models.Model):
    """One grant: an access token and the refresh token that may replace it (once)."""

    athlete = models.ForeignKey(SimAthlete, on_delete=models.CASCADE, related_name="tokens")
    client_id = models.CharField(max_length=64, db_index=True)
    scope = models.CharField(max_length=255)
    access_token = models.CharField(max_length=64, unique=True)
    access_expires_at = models.DateTimeField()
    refresh_token = models.CharField(max_length=64, unique=True)
    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="set when the refresh token was used")
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated token"

    def __str__(self) -> str:
        return f"token of athlete {self.athlete_id} for {self.client_id}"

    @property
    def scopes(self) -> set[str]:
        return _scopes(self.scope)

    def access_valid(self, at: datetime | None = None) -> bool:
        return self.revoked_at is None and self.access_expires_at > (at or now())


class SimSegment(models.Model):
    name = models.CharField(max_length=128)
    activity_type = models.CharField(max_length=16, default="Ride")
    distance = models.FloatField()
    average_grade = models.FloatField()
    maximum_grade = models.FloatField()
    elevation_high = models.FloatField()
    elevation_low = models.FloatField()
    start_lat = models.FloatField()
    start_lng = models.FloatField()
    end_lat = models.FloatField()
    end_lng = models.FloatField()
    climb_category = models.PositiveSmallIntegerField(default=0)
    city = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=64, blank=True)
    private = models.BooleanField(default=False)
    hazardous = models.BooleanField(default=False)
    polyline = models.TextField(blank=True)
    effort_count = models.PositiveIntegerField(default=0)
    athlete_count = models.PositiveIntegerField(default=0)
    star_count = models.PositiveIntegerField(default=0)
    popularity = models.FloatField(default=1.0, help_text="seeding weight: popular segments get most efforts")
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated segment"

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


class SimActivity(models.Model):
    athlete = models.ForeignKey(SimAthlete, on_delete=models.CASCADE, related_name="activities")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    sport_type = models.CharField(max_length=32)
    type = models.CharField(max_length=32)
    start_date = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA name")
    distance = models.FloatField(default=0.0)
    moving_time = models.PositiveIntegerField(default=0)
    elapsed_time = models.PositiveIntegerField(default=0)
    total_elevation_gain = models.FloatField(default=0.0)
    elev_high = models.FloatField(null=True, blank=True)
    elev_low = models.FloatField(null=True, blank=True)
    average_speed = models.FloatField(default=0.0)
    max_speed = models.FloatField(default=0.0)
    average_cadence = models.FloatField(null=True, blank=True)
    average_watts = models.FloatField(null=True, blank=True)
    weighted_average_watts = models.PositiveIntegerField(null=True, blank=True)
    max_watts = models.PositiveIntegerField(null=True, blank=True)
    kilojoules = models.FloatField(null=True, blank=True)
    device_watts = models.BooleanField(default=False)
    has_heartrate = models.BooleanField(default=False)
    average_heartrate = models.FloatField(null=True, blank=True)
    max_heartrate = models.FloatField(null=True, blank=True)
    calories = models.FloatField(default=0.0)
    suffer_score = models.PositiveIntegerField(null=True, blank=True)
    achievement_count = models.PositiveIntegerField(default=0)
    pr_count = models.PositiveIntegerField(default=0)
    kudos_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    athlete_count = models.PositiveIntegerField(default=1)
    photo_count = models.PositiveIntegerField(default=0)
    total_photo_count = models.PositiveIntegerField(default=0)
    trainer = models.BooleanField(default=False)
    commute = models.BooleanField(default=False)
    manual = models.BooleanField(default=False)
    private = models.BooleanField(default=False)
    visibility = models.CharField(max_length=16, default="everyone")
    flagged = models.BooleanField(default=False)
    hide_from_home = models.BooleanField(default=False)
    workout_type = models.PositiveSmallIntegerField(null=True, blank=True)
    gear_id = models.CharField(max_length=32, blank=True)
    device_name = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    upload_id = models.BigIntegerField(null=True, blank=True)
    start_lat = models.FloatField(null=True, blank=True)
    start_lng = models.FloatField(null=True, blank=True)
    end_lat = models.FloatField(null=True, blank=True)
    end_lng = models.FloatField(null=True, blank=True)
    summary_polyline = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated activity"
        verbose_name_plural = "simulated activities"
        indexes = [models.Index(fields=["athlete", "start_date"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


class SimActivityStreams(models.Model):
    """An activity's recorded track, as Strava keeps it from the uploaded file.

    `data` maps Strava stream types to lists of one length, one item per recorded point:
    `time` (seconds from the start, required), `distance` (m, cumulative), `latlng` ([lat, lng]),
    `altitude` (m), `heartrate` (bpm), `watts`, `cadence`, `temp`. An activity without a row (a seeded
    one) has streams made up from its summary instead (sandbox/streams.py).
    """

    activity = models.OneToOneField(SimActivity, on_delete=models.CASCADE, primary_key=True, related_name="recorded_streams")
    data = models.JSONField(help_text="stream type → list of values, all of one length")
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated activity streams"
        verbose_name_plural = "simulated activity streams"

    def __str__(self) -> str:
        return f"streams of activity {self.activity_id}"


class SimSegmentEffort(models.Model):
    activity = models.ForeignKey(SimActivity, on_delete=models.CASCADE, related_name="efforts")
    athlete = models.ForeignKey(SimAthlete, on_delete=models.CASCADE, related_name="efforts")
    segment = models.ForeignKey(SimSegment, on_delete=models.CASCADE, related_name="efforts")
    name = models.CharField(max_length=128)
    elapsed_time = models.PositiveIntegerField()
    moving_time = models.PositiveIntegerField()
    start_date = models.DateTimeField()
    distance = models.FloatField()
    start_index = models.PositiveIntegerField(default=0)
    end_index = models.PositiveIntegerField(default=0)
    average_cadence = models.FloatField(null=True, blank=True)
    average_watts = models.FloatField(null=True, blank=True)
    device_watts = models.BooleanField(default=False)
    average_heartrate = models.FloatField(null=True, blank=True)
    max_heartrate = models.FloatField(null=True, blank=True)
    kom_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    pr_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    hidden = models.BooleanField(default=False)

    class Meta:
        verbose_name = "simulated segment effort"
        indexes = [models.Index(fields=["athlete", "segment"])]

    def __str__(self) -> str:
        return f"effort {self.pk} on {self.segment_id}"


class SimUpload(models.Model):
    class State(models.TextChoices):
        PROCESSING = "processing"
        READY = "ready"
        ERROR = "error"

    athlete = models.ForeignKey(SimAthlete, on_delete=models.CASCADE, related_name="uploads")
    client_id = models.CharField(max_length=64)
    filename = models.CharField(max_length=255)
    data_type = models.CharField(max_length=8)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField(default=0)
    data = models.BinaryField(blank=True, help_text="the file, kept until it is processed")
    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    trainer = models.BooleanField(null=True, blank=True)
    commute = models.BooleanField(null=True, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    activity_type = models.CharField(max_length=32, blank=True, help_text="lower case; beats the file's sport")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PROCESSING)
    error = models.TextField(blank=True)
    activity_id = models.BigIntegerField(null=True, blank=True, help_text="kept when the activity is deleted")
    created_at = models.DateTimeField(default=now)
    process_after = models.DateTimeField(db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "simulated upload"

    def __str__(self) -> str:
        return f"upload {self.pk} ({self.filename})"


class SimPushSubscription(models.Model):
    CALLBACK_URL_MAX, VERIFY_TOKEN_MAX = 500, 255

    client_id = models.CharField(max_length=64, unique=True, help_text="Strava allows one per application")
    callback_url = models.URLField(max_length=CALLBACK_URL_MAX)
    verify_token = models.CharField(max_length=VERIFY_TOKEN_MAX)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated push subscription"

    def __str__(self) -> str:
        return f"subscription {self.pk} → {self.callback_url}"


class SimRateCounter(models.Model):
    """Requests counted per application in the current short window and day (Strava's quota)."""

    client_id = models.CharField(max_length=64, unique=True)
    window_index = models.BigIntegerField(default=0)
    day_index = models.BigIntegerField(default=0)
    short_count = models.PositiveIntegerField(default=0)
    daily_count = models.PositiveIntegerField(default=0)
    read_short_count = models.PositiveIntegerField(default=0)
    read_daily_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "simulated rate counter"

    def __str__(self) -> str:
        return f"usage of {self.client_id}: {self.short_count},{self.daily_count}"


class SimRequestLog(models.Model):
    """Every request the simulator answered, faults and 429s included: tests count calls here."""

    client_id = models.CharField(max_length=64, blank=True)
    athlete_id = models.BigIntegerField(null=True, blank=True, help_text="the simulated athlete's Strava id")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255, help_text="after the mount, e.g. /api/v3/athlete/activities")
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField(help_text="0 when the connection was dropped on purpose")
    created_at = models.DateTimeField(db_index=True)
    duration_ms = models.FloatField(default=0.0)

    class Meta:
        verbose_name = "simulated request"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class SimConfig(models.Model):
    """The one row of switches and fault rates; rates are probabilities per api/v3 request."""

    error_rate = models.FloatField(default=0.0, help_text="share of api/v3 requests answered 500/502/503")
    slow_seconds = models.FloatField(default=0.0, help_text="delay of a slow answer")
    slow_rate = models.FloatField(default=0.0, help_text="share of api/v3 requests answered slowly")
    drop_rate = models.FloatField(default=0.0, help_text="share of api/v3 requests whose connection is dropped")
    inactive = models.BooleanField(default=False, help_text="the application's API subscription lapsed: 403")
    fail_uploads = models.BooleanField(default=False, help_text="every processed upload ends in error")
    webhooks_down = models.BooleanField(
        default=False, help_text="push events are lost, as when Strava's push service or the callback is down"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "simulator configuration"

    def __str__(self) -> str:
        return "simulator configuration"

    @classmethod
    def load(cls) -> SimConfig:
        config, _ = cls.objects.get_or_create(pk=1)
        return config


# --- Garmin Connect (sandbox/garmin/) ------------------------------------------------------------
# Garmin's side of the simulator: accounts with their activities (real files), DI OAuth2 sessions,
# pending MFA sign-ins, per-account faults and a log of every Garmin request (counts, overlap).


class SimGarminAccount(models.Model):
    """A Garmin Connect account; `strava_athlete` links it to a simulated Strava athlete (the demo's pairing)."""

    email = models.EmailField(unique=True)
    password = models.CharField(max_length=128, help_text="hashed, as Django hashes passwords")
    mfa = models.BooleanField(default=False, help_text="sign-in asks for a code sent by email")
    mfa_code = models.CharField(max_length=6, default="123456", help_text="the code the simulated email carries")
    display_name = models.CharField(max_length=64, unique=True)
    full_name = models.CharField(max_length=128, blank=True)
    profile_id = models.BigIntegerField(unique=True)
    garmin_guid = models.CharField(max_length=36, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA name: startTimeLocal")
    strava_athlete = models.ForeignKey(
        SimAthlete, null=True, blank=True, on_delete=models.SET_NULL, related_name="garmin_accounts"
    )
    throttled = models.BooleanField(default=False, help_text="every connectapi request answers 429 until cleared")
    throttle_next = models.PositiveIntegerField(default=0, help_text="the next N connectapi requests answer 429")
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated Garmin account"

    def __str__(self) -> str:
        return self.email


class SimGarminActivity(models.Model):
    """An activity as Garmin Connect keeps it: the original file, and the summary Garmin built from it."""

    account = models.ForeignKey(SimGarminAccount, on_delete=models.CASCADE, related_name="activities")
    activity_id = models.BigIntegerField(unique=True, help_text="Garmin's id (11 digits, like real ones)")
    name = models.CharField(max_length=255)
    type_key = models.CharField(max_length=48)
    start_time = models.DateTimeField(help_text="UTC, whole seconds")
    distance = models.FloatField(null=True, blank=True, help_text="m")
    duration = models.FloatField(null=True, blank=True, help_text="s, timer time")
    elapsed_duration = models.FloatField(null=True, blank=True, help_text="s")
    moving_duration = models.FloatField(null=True, blank=True, help_text="s")
    manufacturer = models.CharField(max_length=64, help_text="the file's file_id manufacturer, upper case: STRAVA marks Strava")
    device_id = models.BigIntegerField(null=True, blank=True, help_text="the file's serial number, when it has one")
    file_name = models.CharField(max_length=255, help_text="the file it was made from (tests/data name)")
    data = models.BinaryField(help_text="the original FIT, as downloaded")
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated Garmin activity"
        verbose_name_plural = "simulated Garmin activities"
        indexes = [models.Index(fields=["account", "start_time"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.activity_id})"


class SimGarminToken(models.Model):
    """One DI OAuth2 grant: an access token (a JWT, found by its jti) and a refresh token that may be used once."""

    account = models.ForeignKey(SimGarminAccount, on_delete=models.CASCADE, related_name="tokens")
    client_id = models.CharField(max_length=64)
    access_jti = models.CharField(max_length=64, unique=True)
    access_expires_at = models.DateTimeField()
    refresh_token = models.CharField(max_length=512, unique=True)
    refresh_expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True, help_text="its refresh token was spent on a new grant")
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated Garmin token"

    def __str__(self) -> str:
        return f"Garmin token of {self.account_id}"


class SimGarminMfaChallenge(models.Model):
    """A sign-in waiting for its emailed code: the session named in the client_state's cookie."""

    account = models.ForeignKey(SimGarminAccount, on_delete=models.CASCADE, related_name="mfa_challenges")
    session = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "simulated Garmin MFA challenge"

    def __str__(self) -> str:
        return f"MFA challenge of {self.account_id}"


class SimGarminRequest(models.Model):
    """Every Garmin request the simulator answered, with its wall-clock span: counts and overlaps come from here."""

    account = models.ForeignKey(SimGarminAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    endpoint = models.CharField(max_length=32, db_index=True, help_text="signin, mfa, token, activities, download, ...")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    started = models.FloatField(help_text="epoch seconds when the view began")
    finished = models.FloatField(help_text="epoch seconds when the answer was ready")

    class Meta:
        verbose_name = "simulated Garmin request"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"
