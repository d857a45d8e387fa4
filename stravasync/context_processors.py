from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def deployment(request: HttpRequest) -> dict[str, object]:
    """Every page shows the sandbox banner and the API-subscription switch, and links to Strava's own pages."""
    from stravasync.strava.quota import subscription_inactive_message

    return {
        "sandbox_mode": settings.SANDBOX_MODE,
        "strava_inactive_message": subscription_inactive_message(),
        "strava_web_url": settings.STRAVA_WEB_URL,
    }
