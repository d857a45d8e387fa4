from __future__ import annotations

from django.urls import path

from . import views

app_name = "uploads"
urlpatterns = [
    path("", views.history, name="history"),
    path("new/", views.upload_page, name="new"),
    path("retry-failed/", views.retry_all_failed, name="retry-failed"),
    path("batches/", views.batch_create, name="batch-create"),
    path("batches/<int:pk>/", views.batch_page, name="batch"),
    path("batches/<int:pk>/files/", views.batch_add_files, name="batch-files"),
    path("batches/<int:pk>/status.json", views.batch_status, name="batch-status"),
    path("batches/<int:pk>/report.<str:fmt>", views.report, name="report"),
    path("files/<int:pk>/download/", views.download, name="download"),
    path("files/<int:pk>/retry/", views.retry, name="retry"),
    path("files/<int:pk>/upload-anyway/", views.upload_anyway, name="upload-anyway"),
    path("files/<int:pk>/delete/", views.delete, name="delete"),
]
