"""Garmin's hosts below the mount (sandbox/garmin/ when SANDBOX_MODE): sso/ stands in for the sign-in,
diauth/ and connectapi/ are diauth.garmin.com and connectapi.garmin.com with Garmin's own paths."""

from __future__ import annotations

from django.urls import path, re_path

from sandbox.garmin import views

app_name = "sandbox-garmin"

urlpatterns = [
    path("sso/signin", views.sso_signin, name="signin"),
    path("sso/mfa", views.sso_mfa, name="mfa"),
    path("diauth/di-oauth2-service/oauth/token", views.di_token, name="di-token"),
    path("connectapi/userprofile-service/socialProfile", views.social_profile, name="social-profile"),
    path("connectapi/userprofile-service/userprofile/user-settings", views.user_settings, name="user-settings"),
    path("connectapi/activitylist-service/activities/search/activities", views.activities_search, name="activities"),
    path("connectapi/download-service/files/activity/<int:activity_id>", views.download_original, name="download"),
    re_path(r"^connectapi/(?P<rest>.*)$", views.unknown, name="unknown"),
]
