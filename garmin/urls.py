from __future__ import annotations

from django.urls import path

from . import views

app_name = "garmin"
urlpatterns = [
    path("", views.garmin_page, name="page"),
    path("connect/", views.connect, name="connect"),
    path("mfa/", views.mfa, name="mfa"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("check/", views.check_now, name="check"),
    path("backfill/", views.backfill, name="backfill"),
    path("activities/<int:garmin_id>/retry/", views.retry, name="retry"),
]
