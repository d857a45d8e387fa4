"""Strava's own paths, below the mount point (sandbox/strava/ when SANDBOX_MODE)."""

from __future__ import annotations

from django.urls import path, re_path

from sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("oauth/authorize", views.authorize, name="authorize"),
    path("oauth/token", views.token, name="token"),
    path("oauth/deauthorize", views.deauthorize, name="deauthorize"),
    path("oauth/revoke", views.deauthorize, name="revoke"),  # announced to replace deauthorize on 2027-06-01
    path("api/v3/athlete", views.athlete, name="athlete"),
    path("api/v3/athlete/activities", views.athlete_activities, name="athlete-activities"),
    path("api/v3/athletes/<int:athlete_id>/stats", views.athlete_stats, name="athlete-stats"),
    path("api/v3/activities", views.activities, name="activities"),
    path("api/v3/activities/<int:activity_id>", views.activity, name="activity"),
    path("api/v3/activities/<int:activity_id>/streams", views.activity_streams, name="activity-streams"),
    path("api/v3/uploads", views.uploads, name="uploads"),
    path("api/v3/uploads/<int:upload_id>", views.upload, name="upload"),
    path("api/v3/segments/<int:segment_id>", views.segment, name="segment"),
    path("api/v3/push_subscriptions", views.push_subscriptions, name="push-subscriptions"),
    path("api/v3/push_subscriptions/<int:subscription_id>", views.push_subscription, name="push-subscription"),
    re_path(r"^api/v3/(?P<rest>.*)$", views.unknown, name="unknown"),
]
