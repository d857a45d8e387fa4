from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from . import quota


@login_required
def rate_limit_status(request: HttpRequest) -> JsonResponse:
    """The application-wide quota: limits, usage, resets, permits per priority, subscription state."""
    return JsonResponse(quota.quota_status())
