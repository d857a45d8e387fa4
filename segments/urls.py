from __future__ import annotations

from django.urls import path

from . import views

app_name = "segments"
urlpatterns = [
    path("", views.segment_list, name="list"),
    path("<int:pk>/", views.segment_page, name="detail"),
    path("<int:pk>/refresh/", views.segment_refresh, name="refresh"),
]
