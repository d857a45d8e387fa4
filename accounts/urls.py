from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("logout/", views.logout_view, name="logout"),
]
