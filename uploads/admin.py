from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from warehouse.selectors import activity_hrefs

from . import services
from .models import Upload, UploadBatch, UploadEvent
from .reasons import reason_words


class UploadEventInline(admin.TabularInline):
    model = UploadEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "from_status", "to_status", "reason")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        return False


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    # The reason early, so that it shows without scrolling sideways on a laptop.
    list_display = ("original_name", "status", "reason_short", "athlete", "file_type", "start_time", "activity_link",
                    "attempts", "created_at")
    list_filter = ("status", "batch__source", "athlete", "file_type", "created_at")
    search_fields = ("original_name", "sha256", "=activity_id", "=strava_upload_id", "athlete__firstname",
                     "athlete__lastname")
    list_select_related = ("athlete", "batch")
    raw_id_fields = ("batch", "athlete", "duplicate_of_upload")
    readonly_fields = ("status", "reason", "sha256", "size", "data_type", "file_type", "start_time", "sport",
                       "strava_upload_id", "activity_id", "duplicate_of_activity", "attempts", "api_calls",
                       "posted_at", "settled_at", "stored_file", "created_at", "updated_at")
    exclude = ("file",)
    inlines = [UploadEventInline]
    actions = ["retry", "upload_anyway", "mark_junk", "reclassify"]
    show_full_result_count = False  # a COUNT(*) per page is slow at 100,000 uploads

    @admin.display(description="activity")
    def activity_link(self, obj: Upload) -> str:
        activity = obj.activity_id or obj.duplicate_of_activity
        if not activity:
            return "—"
        # Strava's page with real Strava; in sandbox mode the simulator's id means nothing there, and
        # our own activity page is the athlete's alone, so the id stands without a link.
        href = activity_hrefs(athlete_id=None, strava_ids=[activity]).get(activity)
        return format_html('<a href="{}">{}</a>', href, activity) if href else str(activity)

    @admin.display(description="reason")
    def reason_short(self, obj: Upload) -> str:
        said = reason_words(obj.reason)
        words = (said.words[:80] + "…") if len(said.words) > 80 else said.words
        return format_html('<span title="{}">{}</span>', said.detail or said.words, words)

    @admin.display(description="stored file")
    def stored_file(self, obj: Upload) -> str:
        if not obj.file:
            return "—"
        return format_html('<a href="{}">download</a>', reverse("uploads:download", args=[obj.pk]))

    @admin.action(description="Retry the selected files that Strava refused or that failed in transit")
    def retry(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        done = sum(services.upload_retry(upload=u) for u in queryset)
        skipped = queryset.count() - done
        messages.info(request, f"{done} file(s) queued again."
                      + (f" {skipped} skipped: they failed before any call (or are not failed), so would fail the same."
                         if skipped else ""))

    @admin.action(description="Upload the selected junk files anyway")
    def upload_anyway(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        done = sum(services.upload_anyway(upload=u) for u in queryset)
        messages.info(request, f"{done} junk file(s) queued for Strava.")

    @admin.action(description="Mark the selected files as junk")
    def mark_junk(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        done = sum(services.upload_mark_junk(upload=u) for u in queryset)
        messages.info(request, f"{done} file(s) marked as junk.")

    @admin.action(description="Classify the selected files again")
    def reclassify(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        for upload in queryset:
            services.upload_reclassify(upload=upload)
        messages.info(request, "Files classified again.")


@admin.register(UploadBatch)
class UploadBatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "athlete", "source", "label", "file_count", "api_calls", "created_at", "finished_at")
    list_filter = ("source", "athlete", "created_at")
    search_fields = ("label", "athlete__firstname", "athlete__lastname", "=athlete__strava_id")
    list_select_related = ("athlete",)
    readonly_fields = ("athlete", "source", "label", "file_count", "counts", "api_calls", "created_at", "finished_at")
