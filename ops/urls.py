from __future__ import annotations

from django.urls import path

from . import views
from .health import HealthzView

app_name = "ops"

urlpatterns = [
    path("ops/sync/", views.sync_page, name="sync"),
    path("healthz", HealthzView.as_view(), name="healthz"),
    path("metrics", views.metrics, name="metrics"),
]
