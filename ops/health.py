"""/healthz: django-health-check's view with our checks as its plugins (broker, dispatcher, quota)."""

from __future__ import annotations

import dataclasses
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from stravasync.strava import quota

from .operator import heartbeat_age


@dataclasses.dataclass
class Broker(HealthCheck):
    """django-q2's broker (the ORM broker on one machine, Redis on many) answers."""

    async def run(self) -> None:
        await sync_to_async(self._ping)()

    def _ping(self) -> None:
        from django_q.brokers import get_broker

        try:
            alive = get_broker().ping()
        except Exception as exc:  # any broker error means "down" to a load balancer
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc
        if not alive:
            raise ServiceUnavailable("broker did not answer")


@dataclasses.dataclass
class Dispatcher(HealthCheck):
    """The dispatcher ticked within HEALTH_DISPATCHER_STALE_SECONDS (its heartbeat row)."""

    async def run(self) -> None:
        age = await sync_to_async(heartbeat_age)()
        if age is None:
            raise ServiceUnavailable("the dispatcher never ticked")
        if age > settings.HEALTH_DISPATCHER_STALE_SECONDS:
            raise ServiceUnavailable(f"the dispatcher last ticked {age:.0f} s ago")


@dataclasses.dataclass
class Quota(HealthCheck):
    """The quota row reads. An inactive subscription or a spent window is reported, not failed:
    restarting this instance would not help, and everything local keeps working."""

    async def run(self) -> None:
        await sync_to_async(self._read)()

    def _read(self) -> None:
        try:
            quota.quota_snapshot()
        except Exception as exc:
            raise ServiceUnavailable(f"quota state unreadable ({type(exc).__name__})") from exc


def quota_state() -> str:
    status = quota.quota_status()
    if status["subscription_inactive"]:
        return "inactive"
    if status["closed_until"]:
        return f"closed until {status['closed_until']}"
    usage, limits = status["usage"]["overall"], status["limits"]["overall"]
    return f"open ({usage['window']}/{limits['window']} this window, {usage['daily']}/{limits['daily']} today)"


class HealthzView(HealthCheckView):
    """Database, broker, dispatcher and quota checks; the JSON answer also gives the quota's state."""

    checks = (
        "health_check.checks.Database",
        "ops.health.Broker",
        "ops.health.Dispatcher",
        "ops.health.Quota",
    )
    quota_state = ""

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            self.quota_state = await sync_to_async(quota_state)()
        except Exception:  # the Quota check reports it
            self.quota_state = "unknown"
        return await super().get(request, *args, **kwargs)

    def render_to_response_json(self, status: int) -> JsonResponse:
        results = {repr(r.check): "OK" if not r.error else str(r.error) for r in self.results}
        return JsonResponse({**results, "quota_state": self.quota_state}, status=status)
