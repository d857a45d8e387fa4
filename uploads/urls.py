from __future__ import annotations

from django.urls import path

from . import views

app_name = "uploads"
urlpatterns = [
    path("files/<int:pk>/download/", views.download, name="download"),
    path("batches/<int:pk>/report.<str:fmt>", views.report, name="report"),
]
