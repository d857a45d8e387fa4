from __future__ import annotations

from django.conf import settings
from django.db import models

from .crypto import EncryptedTextField

# What each feature needs from Strava; the dashboard explains what is off when a scope is missing.
FEATURE_SCOPES = {
    "uploads": ("activity:write", "Uploading files to Strava"),
    "private activities": ("activity:read_all", "Reading your private (Only You) activities into the warehouse"),
    "profile": ("read", "Reading your public profile and segments"),
}


class Athlete(models.Model):
    """A person who connected their Strava account: one per user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="athlete")
    strava_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=150, blank=True)
    firstname = models.CharField(max_length=150, blank=True)
    lastname = models.CharField(max_length=150, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    scopes = models.CharField(max_length=300, blank=True, help_text="Scopes the athlete accepted, comma-separated")
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    needs_reconnect = models.BooleanField(default=False)
    reconnect_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["firstname", "lastname"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.firstname} {self.lastname}".strip() or self.username or f"Athlete {self.strava_id}"

    @property
    def scope_set(self) -> set[str]:
        return {s.strip() for s in self.scopes.split(",") if s.strip()}

    @property
    def scope_list(self) -> list[str]:
        return sorted(self.scope_set)

    def has_scope(self, scope: str) -> bool:
        granted = self.scope_set
        # activity:read_all implies activity:read, read_all implies read.
        return scope in granted or f"{scope}_all" in granted

    @property
    def missing_features(self) -> list[tuple[str, str, str]]:
        """(feature, scope, explanation) for every feature a missing scope turns off."""
        return [(f, s, why) for f, (s, why) in FEATURE_SCOPES.items() if not self.has_scope(s)]

    @property
    def is_connected(self) -> bool:
        return self.disconnected_at is None and hasattr(self, "token")


class StravaToken(models.Model):
    """The athlete's OAuth tokens, encrypted at rest; the only copy we keep."""

    athlete = models.OneToOneField(Athlete, on_delete=models.CASCADE, related_name="token")
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    expires_at = models.DateTimeField()
    scopes = models.CharField(max_length=300, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # A lease on the refresh: whoever sets it (conditional UPDATE) refreshes; others wait for it.
    refresh_lease_until = models.DateTimeField(null=True, blank=True)
    refresh_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"token of {self.athlete_id}"

    def __repr__(self) -> str:  # never show the secrets, even in a debugger or error page
        return f"<StravaToken athlete={self.athlete_id} expires_at={self.expires_at}>"
