from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from stravasync.strava import views as strava_views

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("social_django.urls", namespace="social")),
    path("uploads/", include("uploads.urls")),
    path("activities/", include("warehouse.urls")),
    path("segments/", include("segments.urls")),
    path("api/rate-limit/", strava_views.rate_limit_status, name="rate-limit"),
    path("admin/", admin.site.urls),
]

if settings.SANDBOX_MODE:
    urlpatterns.append(path("sandbox/strava/", include("sandbox.urls")))
