"""Writes for the warehouse, one module per sub-domain; this package exposes their public API.

store: Strava JSON -> columns, the bulk upsert, rollups, a fetched detail stored and announced.
runs: SyncState and the SyncRun audit log. pull: pull and backfill. enrich: one detail call per
activity, under its lease. dispatch: the dispatcher's steps and backlogs. export_import: Strava's
bulk-export zip, with zero calls.

Every Strava call goes through StravaClient, hence through the quota. The rows are the queue of
record. Patch a name where it is looked up (its module), not here.
"""

from __future__ import annotations

from .dispatch import (
    connected_athletes,
    enrich_claimed,
    enrich_dispatch,
    enrich_pending_calls,
    pull_claimed,
    pull_pending_calls,
    pulls_dispatch,
    sync_states_ensure,
)
from .enrich import activities_enrich, activity_claim, activity_enrich, activity_release
from .export_import import ImportResult, export_import_request, export_import_stored, export_zip_orphans, strava_export_import
from .pull import PullResult, activities_pull, next_pull_slot, push_live
from .rollups import rollups_refresh
from .runs import sync_run, sync_run_book, sync_run_fail, sync_run_finish, sync_run_open, sync_state_for
from .store import (
    UpsertResult,
    activities_upsert,
    activity_store_detail,
    detail_columns,
    summary_columns,
)

__all__ = [
    "ImportResult",
    "PullResult",
    "UpsertResult",
    "activities_enrich",
    "activities_pull",
    "activities_upsert",
    "activity_claim",
    "activity_enrich",
    "activity_release",
    "activity_store_detail",
    "connected_athletes",
    "export_import_request",
    "export_import_stored",
    "export_zip_orphans",
    "detail_columns",
    "enrich_claimed",
    "enrich_dispatch",
    "enrich_pending_calls",
    "next_pull_slot",
    "pull_claimed",
    "pull_pending_calls",
    "pulls_dispatch",
    "push_live",
    "rollups_refresh",
    "strava_export_import",
    "summary_columns",
    "sync_run",
    "sync_run_book",
    "sync_run_fail",
    "sync_run_finish",
    "sync_run_open",
    "sync_state_for",
    "sync_states_ensure",
]
