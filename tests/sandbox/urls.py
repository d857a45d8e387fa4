"""Only the simulator (and the admin): its tests must not depend on the app's other URLconfs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("sandbox/strava/", include("sandbox.urls")),
    path("sandbox/garmin/", include("sandbox.garmin.urls")),
    path("admin/", admin.site.urls),
]
