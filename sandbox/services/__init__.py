"""Writes of the simulator, one module per sub-domain; the public names are re-exported here."""

from __future__ import annotations

from sandbox.services.activities import ActivityChanges, sim_activity_create, sim_activity_update
from sandbox.services.oauth import CODE_LIFETIME, auth_code_issue, client_check, token_exchange, token_refresh, tokens_revoke
from sandbox.services.seeding import SeedResult, sim_activities_seed, sim_athlete_create, sim_seed, sim_segments_seed
from sandbox.services.subscriptions import push_subscription_create, push_subscription_delete
from sandbox.services.switches import sim_config_reset, sim_config_update, sim_request_log
from sandbox.services.tracks import sim_activity_streams_store
from sandbox.services.uploads import (
    DATA_TYPES,
    ERROR_EMPTY,
    ERROR_MALFORMED,
    ERROR_NO_TIME,
    duplicate_error,
    sim_activity_delete,
    upload_create,
    uploads_process_due,
)

__all__ = [
    "ActivityChanges",
    "CODE_LIFETIME",
    "DATA_TYPES",
    "ERROR_EMPTY",
    "ERROR_MALFORMED",
    "ERROR_NO_TIME",
    "SeedResult",
    "auth_code_issue",
    "client_check",
    "duplicate_error",
    "push_subscription_create",
    "push_subscription_delete",
    "sim_activities_seed",
    "sim_activity_create",
    "sim_activity_delete",
    "sim_activity_streams_store",
    "sim_activity_update",
    "sim_athlete_create",
    "sim_config_reset",
    "sim_config_update",
    "sim_request_log",
    "sim_seed",
    "sim_segments_seed",
    "token_exchange",
    "token_refresh",
    "tokens_revoke",
    "upload_create",
    "uploads_process_due",
]
