"""The fault switches and the request log."""

from __future__ import annotations

from django.utils import timezone

from sandbox.models import (
    SimConfig,
    SimRequestLog,
)


def sim_config_update(
    *,
    error_rate: float | None = None,
    slow_seconds: float | None = None,
    slow_rate: float | None = None,
    drop_rate: float | None = None,
    inactive: bool | None = None,
    fail_uploads: bool | None = None,
    webhooks_down: bool | None = None,
) -> SimConfig:
    config = SimConfig.load()
    changes = {
        "error_rate": error_rate,
        "slow_seconds": slow_seconds,
        "slow_rate": slow_rate,
        "drop_rate": drop_rate,
        "inactive": inactive,
        "fail_uploads": fail_uploads,
        "webhooks_down": webhooks_down,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(config, field, value)
    config.save()
    return config


def sim_config_reset() -> SimConfig:
    SimConfig.objects.filter(pk=1).delete()
    return SimConfig.load()


def sim_request_log(
    *, client_id: str, athlete_id: int | None, method: str, path: str, query: str, status: int, duration_ms: float
) -> SimRequestLog:
    return SimRequestLog.objects.create(
        client_id=client_id or "",
        athlete_id=athlete_id,
        method=method,
        path=path[:255],
        query=query,
        status=status,
        created_at=timezone.now(),
        duration_ms=round(duration_ms, 2),
    )
