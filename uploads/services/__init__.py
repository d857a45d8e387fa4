"""Writes for uploads: ingest, the state machine, dispatch, posting, confirming, reports.

The rows are the queue of record. Every step claims its row with a conditional update, so a
task that runs twice, or a worker killed half-way, loses nothing and posts nothing twice.
One module per sub-domain; their public functions are re-exported here, so `services.<name>`
(and the scheduled tasks' dotted paths) keep working.
"""

from __future__ import annotations

from .confirm import uploads_confirm
from .ingest import (
    batch_create,
    upload_delete,
    upload_mark_junk,
    upload_reclassify,
)
from .intake import ingest_deadline, spools_clean, upload_ingest
from .orphans import stored_upload_orphans
from .post import upload_post, uploads_dispatch, uploads_pending_calls, uploads_requeue_stale
from .reports import batch_report_store
from .review import upload_anyway, upload_retry, uploads_retry_failed, uploads_retryable
from .states import TRANSITIONS, batch_refresh, upload_transition
from .warehousing import (
    uploads_warehouse,
    uploads_warehouse_claim,
    uploads_warehouse_dispatch,
    uploads_warehouse_pending,
)

__all__ = [
    "TRANSITIONS",
    "batch_create",
    "batch_refresh",
    "batch_report_store",
    "ingest_deadline",
    "stored_upload_orphans",
    "upload_anyway",
    "upload_delete",
    "upload_ingest",
    "upload_mark_junk",
    "upload_post",
    "upload_reclassify",
    "upload_retry",
    "upload_transition",
    "uploads_confirm",
    "uploads_dispatch",
    "uploads_pending_calls",
    "uploads_requeue_stale",
    "uploads_retry_failed",
    "uploads_retryable",
    "uploads_warehouse",
    "uploads_warehouse_claim",
    "uploads_warehouse_dispatch",
    "uploads_warehouse_pending",
    "spools_clean",
]
