from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from social_django import views as social_views

from stravasync.strava import views as strava_views
from warehouse import api as warehouse_api

# Only social-auth's login and its callback: its own /disconnect/<backend>/ would drop the social
# association and keep every token, activity and file, so disconnecting is ours alone (accounts).
social_patterns = ([
    path("login/<str:backend>/", social_views.auth, name="begin"),
    path("complete/<str:backend>/", social_views.complete, name="complete"),
], "social")

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include(social_patterns)),
    path("uploads/", include("uploads.urls")),
    path("activities/", include("warehouse.urls")),
    path("segments/", include("segments.urls")),
    path("garmin/", include("garmin.urls")),
    path("strava/webhook/", include("webhooks.urls")),
    path("api/rate-limit/", strava_views.rate_limit_status, name="rate-limit"),
    path("api/sync/", warehouse_api.sync, name="sync-api"),
    path("", include("ops.urls")),
    path("admin/", admin.site.urls),
]

if settings.SANDBOX_MODE:
    urlpatterns.append(path("sandbox/strava/", include("sandbox.urls")))
    urlpatterns.append(path("sandbox/garmin/", include("sandbox.garmin.urls")))
