from __future__ import annotations

from django.urls import path

from . import views

app_name = "warehouse"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("stats/", views.stats, name="stats"),
    path("export.<str:fmt>", views.export, name="export"),
    path("sync/", views.sync_now, name="sync"),
    path("import/", views.import_page, name="import"),
    path("<int:strava_id>/", views.activity_page, name="activity"),
    path("file/<int:pk>/", views.file_activity_page, name="file-activity"),
    path("<int:strava_id>.json", views.activity_json, name="activity-json"),
]
