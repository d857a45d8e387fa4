"""Strava's callback: the subscription handshake (GET) and events (POST), answered fast, no call inline."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        expected = settings.STRAVA_WEBHOOK_VERIFY_TOKEN
        if not expected or not secrets.compare_digest(token.encode(), expected.encode()):
            return JsonResponse({"error": "verify token does not match"}, status=403)
        return JsonResponse({"hub.challenge": request.GET.get("hub.challenge", "")})
    limit = settings.STRAVA_WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = limit + 1
    if declared > limit:
        return JsonResponse({"error": "body too large"}, status=413)
    body = request.body
    if len(body) > limit:
        return JsonResponse({"error": "body too large"}, status=413)
    try:
        payload = json.loads(body)
        created = services.webhook_event_receive(payload=payload)
    except (ValueError, services.InvalidEvent) as exc:
        return JsonResponse({"error": str(exc)[:200]}, status=400)
    return JsonResponse({"stored": created})
