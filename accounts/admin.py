from __future__ import annotations

from django.contrib import admin

from .models import Athlete


@admin.register(Athlete)
class AthleteAdmin(admin.ModelAdmin):
    """Athletes without their secrets: the token is shown only as its expiry."""

    list_display = ("display_name", "strava_id", "scopes", "connected_at", "disconnected_at", "needs_reconnect", "token_expires")
    list_filter = ("needs_reconnect", "connected_at")
    search_fields = ("strava_id", "username", "firstname", "lastname", "user__username")
    list_select_related = ("user", "token")
    readonly_fields = ("strava_id", "scopes", "connected_at", "disconnected_at", "created_at", "token_expires")
    exclude = ()

    @admin.display(description="token expires")
    def token_expires(self, obj: Athlete) -> str:
        token = getattr(obj, "token", None)
        return token.expires_at.isoformat() if token else "no token"
