"""Strava's push events, one row each (the row is the queue), and our push subscription."""

from __future__ import annotations

from django.db import models

from accounts.models import Athlete


class WebhookEvent(models.Model):
    """One event as Strava POSTed it; a second delivery of the same event meets the unique key."""

    class ObjectType(models.TextChoices):
        ACTIVITY = "activity"
        ATHLETE = "athlete"

    class AspectType(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    object_id = models.BigIntegerField()
    aspect_type = models.CharField(max_length=16, choices=AspectType.choices)
    owner_id = models.BigIntegerField(help_text="the athlete's Strava id")
    event_time = models.BigIntegerField(help_text="Strava's epoch seconds")
    subscription_id = models.BigIntegerField(null=True, blank=True)
    updates = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True, help_text="the body as received")
    # Kept when the athlete is purged: the row still recognises a late duplicate of their deauthorization.
    athlete = models.ForeignKey(Athlete, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True, help_text="what processing did, or why it did nothing")
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Strava delivers again when not acknowledged in time: the operator's page counts those we recognised.
    duplicates = models.PositiveIntegerField(default=0, help_text="deliveries of this event after the first")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id", "aspect_type", "event_time", "owner_id"], name="webhook_event_once"
            ),
        ]
        indexes = [models.Index(fields=["processed_at", "aspect_type"])]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} {self.aspect_type} ({self.event_time})"


class WebhookSubscription(models.Model):
    """Our application's push subscription at Strava (one per application), as last seen."""

    strava_id = models.BigIntegerField(unique=True)
    callback_url = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(auto_now=True, help_text="last seen at Strava")

    def __str__(self) -> str:
        return f"subscription {self.strava_id} -> {self.callback_url}"
