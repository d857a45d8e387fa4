from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from .models import Activity, SyncRun, SyncState


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    # Staff see states, counts, reasons and ids, never an athlete's activity names, routes or numbers
    # (Strava's agreement: an athlete's Strava data is shown to that athlete only).
    list_display = ("strava_id", "athlete_id", "has_details", "source", "enrich_attempts", "enrich_error")
    list_filter = ("source", ("detail_fetched_at", admin.EmptyFieldListFilter))
    search_fields = ("=strava_id", "=athlete__strava_id")
    show_full_result_count = False  # a COUNT(*) per page is slow at 100,000 activities
    fields = readonly_fields = ("strava_link", "athlete_id", "source", "detail_fetched_at", "efforts_stored_at",
                                "enrich_attempts", "enrich_error", "enrich_not_before", "enrich_claimed_until",
                                "created_at", "updated_at")
    actions = ["fetch_details_again", "retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Activity]:
        return super().get_queryset(request).defer("summary", "detail", "export_row")

    @admin.display(description="details", boolean=True, ordering="detail_fetched_at")
    def has_details(self, obj: Activity) -> bool:
        return obj.detail_fetched_at is not None

    @admin.display(description="on Strava")
    def strava_link(self, obj: Activity) -> str:
        return format_html('<a href="{}">{}</a>', obj.strava_url, obj.strava_id)

    @admin.action(description="Fetch the details again (one call each, at enrich priority)")
    def fetch_details_again(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        count = queryset.update(detail_fetched_at=None, enrich_not_before=None, enrich_error="", enrich_attempts=0)
        messages.info(request, f"{count} activit{'y' if count == 1 else 'ies'} back in the enrich backlog.")

    @admin.action(description="Retry failed enrichments now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        count = queryset.filter(detail_fetched_at__isnull=True).update(enrich_not_before=None, enrich_error="")
        messages.info(request, f"{count} activit{'y' if count == 1 else 'ies'} will be tried at the next tick.")


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    # Not the watermark or the backfill cursor: they are the dates of an athlete's activities.
    list_display = ("athlete_id", "backfill_done", "next_pull_at", "last_success_at", "last_error")
    list_filter = ("backfill_done",)
    search_fields = ("athlete__firstname", "athlete__lastname", "=athlete__strava_id")
    list_select_related = ("athlete",)
    raw_id_fields = ("athlete",)
    fields = readonly_fields = ("athlete_id", "backfill_done", "backfill_done_at", "next_pull_at", "not_before",
                                "claimed_until", "last_success_at", "last_error", "last_error_at", "created_at",
                                "updated_at")
    actions = ["pull_now", "walk_history_again"]

    @admin.action(description="Pull new activities at the next tick")
    def pull_now(self, request: HttpRequest, queryset: QuerySet[SyncState]) -> None:
        count = queryset.update(next_pull_at=timezone.now(), not_before=None)
        messages.info(request, f"{count} athlete(s) due for a pull.")

    @admin.action(description="Walk the whole history again (refreshes every summary)")
    def walk_history_again(self, request: HttpRequest, queryset: QuerySet[SyncState]) -> None:
        count = queryset.update(backfill_done=False, backfill_cursor=None, backfill_done_at=None, not_before=None)
        messages.info(request, f"{count} athlete(s) will be backfilled again.")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "athlete", "trigger", "started_at", "finished_at", "calls", "pages", "created",
                    "updated", "error_short")
    list_filter = ("kind", "trigger", "started_at")
    search_fields = ("athlete__firstname", "athlete__lastname", "=athlete__strava_id", "error")
    list_select_related = ("athlete",)
    raw_id_fields = ("athlete",)
    readonly_fields = ("kind", "athlete", "trigger", "started_at", "finished_at", "calls", "pages", "created", "updated",
                       "error", "notes")

    @admin.display(description="error")
    def error_short(self, obj: SyncRun) -> str:
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error
