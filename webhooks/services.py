"""Writes for webhooks: store an event, process the stored ones (the dispatcher's step), manage our subscription.

Events carry no activity data: an activity `create` costs one detail call (priority webhook), everything
else is applied from the event alone, within the tick, with no permit.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Athlete, StravaToken
from accounts.services import athlete_purge_or_keep
from stravasync.strava import quota
from stravasync.strava.client import StravaClient
from stravasync.strava.dispatch import permits_hand_out, ready_up_to
from stravasync.strava.errors import NotFound, RateLimited, StravaError
from stravasync.strava.quota import Kind, Priority
from uploads.models import Upload
from uploads.services.states import upload_transition
from warehouse.models import Activity
from warehouse.services import activities_upsert, activity_store_detail, rollups_refresh

from .models import WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)

E = WebhookEvent
_EXTERNAL_ID = re.compile(r"^stravasync-(\d+)")


class InvalidEvent(ValueError):
    """The POSTed body is not a Strava event."""


# --- receive ------------------------------------------------------------------------------------
def _whole(payload: dict[str, Any], name: str) -> int:
    """A whole number that fits a bigint column; anything else (even "²", which isdigit() admits) is refused."""
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str) or not re.fullmatch(r"[0-9]{1,18}", str(value)):
        raise InvalidEvent(f"{name} must be a whole number")
    return int(value)


def _whole_or_none(payload: dict[str, Any], name: str) -> int | None:
    return None if payload.get(name) is None else _whole(payload, name)


def webhook_event_receive(*, payload: Any) -> bool:
    """Store one POSTed event; False when it is a second delivery of one already stored. No Strava call."""
    if not isinstance(payload, dict):
        raise InvalidEvent("the body must be a JSON object")
    object_type, aspect_type = payload.get("object_type"), payload.get("aspect_type")
    if object_type not in E.ObjectType.values:
        raise InvalidEvent("object_type must be activity or athlete")
    if aspect_type not in E.AspectType.values:
        raise InvalidEvent("aspect_type must be create, update or delete")
    updates = payload.get("updates") or {}
    if not isinstance(updates, dict):
        raise InvalidEvent("updates must be an object")
    owner_id = _whole(payload, "owner_id")
    fields = {
        "object_type": object_type, "object_id": _whole(payload, "object_id"), "aspect_type": aspect_type,
        "owner_id": owner_id, "event_time": _whole(payload, "event_time"),
    }
    athlete_id = Athlete.objects.filter(strava_id=owner_id).values_list("pk", flat=True).first()
    try:
        with transaction.atomic():
            E.objects.create(**fields, subscription_id=_whole_or_none(payload, "subscription_id"),
                             updates=updates, payload=payload, athlete_id=athlete_id)
    except IntegrityError:
        E.objects.filter(**fields).update(duplicates=F("duplicates") + 1)
        return False
    return True


# --- process --------------------------------------------------------------------------------------
def _finish(event: WebhookEvent, result: str, *, error: str = "") -> None:
    E.objects.filter(pk=event.pk).update(processed_at=timezone.now(), result=result[:200], error=error,
                                         claimed_until=None)


def _is_fetch(event: WebhookEvent) -> bool:
    return event.object_type == E.ObjectType.ACTIVITY and event.aspect_type == E.AspectType.CREATE


def webhook_events_dispatch() -> int:
    """The dispatcher's step: apply every event that needs no call now, then hand out detail calls."""
    done = webhook_events_apply()
    return done + webhook_fetches_dispatch()


def webhook_events_apply(*, limit: int | None = None) -> int:
    """Events that need no call (updates, deletes, deauthorizations, unknown athletes), oldest first."""
    pending = (E.objects.filter(processed_at__isnull=True)
               .exclude(object_type=E.ObjectType.ACTIVITY, aspect_type=E.AspectType.CREATE, athlete__isnull=False)
               .order_by("id"))
    count = 0
    for event in pending[: limit or settings.WEBHOOKS_APPLY_BATCH]:
        event.refresh_from_db(fields=["athlete"])  # a deauthorization earlier in this loop may have purged it
        try:
            _finish(event, webhook_event_apply(event=event))
        except Exception as exc:  # one bad event must not stop the others; it is kept with its error
            logger.exception("webhook event %s failed", event.pk)
            _finish(event, "failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        count += 1
    return count


def webhook_event_apply(*, event: WebhookEvent) -> str:
    """Apply one event that needs no call; returns what was done."""
    if event.athlete_id is None:
        return "unknown athlete: nothing stored for them"
    athlete_id = event.athlete_id
    if event.object_type == E.ObjectType.ATHLETE:
        if str(event.updates.get("authorized", "")).lower() == "false":
            athlete_deauthorized(athlete_id=athlete_id)
            return "athlete deauthorized: tokens, rows and files deleted"
        return "athlete update: nothing to do"
    activities = Activity.objects.filter(athlete_id=athlete_id, strava_id=event.object_id)
    if event.aspect_type == E.AspectType.DELETE:
        days = set(activities.values_list("start_day", flat=True))
        deleted, _ = activities.delete()  # its segment efforts cascade
        if days:
            rollups_refresh(athlete_id=athlete_id, days=days)
        return "activity deleted" if deleted else "activity was not in the warehouse"
    if event.aspect_type == E.AspectType.UPDATE:
        return _activity_update(athlete_id, activities, event.updates)
    return "nothing to do"


def _activity_update(athlete_id: int, activities: Any, updates: dict[str, Any]) -> str:
    fields: dict[str, Any] = {}
    if "title" in updates:
        fields["name"] = str(updates["title"])[:255]
    if "type" in updates:
        fields["type"] = fields["sport_type"] = str(updates["type"])[:40]
    if "private" in updates:
        fields["private"] = str(updates["private"]).lower() == "true"
    if not fields:
        return "activity update: no field we keep"
    with transaction.atomic():
        changed = activities.update(**fields, updated_at=timezone.now())
        if changed and "sport_type" in fields:
            # The weekly and monthly totals are kept per sport type: the activity moved between them.
            rollups_refresh(athlete_id=athlete_id, days=set(activities.values_list("start_day", flat=True)))
    return f"activity updated ({', '.join(sorted(fields))})" if changed else "activity was not in the warehouse"


def athlete_deauthorized(*, athlete_id: int) -> None:
    """Strava's agreement: an athlete who deauthorized us loses their tokens, rows and stored files."""
    athlete = Athlete.objects.filter(pk=athlete_id).first()
    if athlete is None:
        return
    with transaction.atomic():
        StravaToken.objects.filter(athlete=athlete).delete()
        athlete_purge_or_keep(athlete=athlete, delete_data=True)


def _fetch_ready() -> Any:
    now = timezone.now()
    return E.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        processed_at__isnull=True, object_type=E.ObjectType.ACTIVITY, aspect_type=E.AspectType.CREATE,
        athlete__isnull=False,
    )


def _claim(pk: int) -> int | None:
    until = timezone.now() + timedelta(seconds=settings.WEBHOOKS_CLAIM_TIMEOUT)
    claimed = _fetch_ready().filter(pk=pk).update(claimed_until=until, attempts=F("attempts") + 1)
    return pk if claimed == 1 else None


def webhook_fetches_dispatch() -> int:
    """Take read permits at priority webhook for the create events waiting; each gets one detail call."""
    ready = _fetch_ready()
    # An activity whose details we already hold (a replayed event, a pull that came first) needs no call.
    held = set(Activity.objects.filter(strava_id__in=ready.values("object_id"), detail_fetched_at__isnull=False)
               .values_list("strava_id", flat=True))
    for event in ready.filter(object_id__in=held):
        _upload_settle(event.athlete_id, Activity.objects.get(strava_id=event.object_id).detail or {})
        _finish(event, "details already stored: no call")
    wanted = ready_up_to(ready, settings.WEBHOOKS_FETCH_BATCH)
    return permits_hand_out(
        ready=ready, wanted=wanted, kind=Kind.READ, priority=Priority.WEBHOOK, fair_key="athlete_id",
        order_by=["id"], claim=_claim, run=lambda pk, permit: webhook_event_fetch(event_id=pk, grant=permit),
        task="webhooks.tasks.event_fetch", label="webhook event",
    )


def webhook_event_fetch(*, event_id: int, grant: dict | quota.Grant | None = None) -> bool:
    """One `GET /activities/{id}?include_all_efforts=true` into the warehouse (and, by its signal, the
    segments); if the activity is one of our uploads, the upload settles from it. True if a call was made."""
    event = E.objects.filter(pk=event_id, processed_at__isnull=True).first()
    permit = quota.Grant(**grant) if isinstance(grant, dict) else grant
    if event is None or event.athlete_id is None:
        if permit is not None:
            quota.release(permit, 1, kind=Kind.READ)
        return False
    client = StravaClient(athlete_id=event.athlete_id, priority=Priority.WEBHOOK, grant=permit)
    try:
        detail = client.get_activity(event.object_id, include_all_efforts=True)
    except NotFound:
        _finish(event, "activity no longer at Strava")
        return True
    except RateLimited as exc:
        E.objects.filter(pk=event.pk).update(claimed_until=None, next_attempt_at=exc.retry_at, error=exc.message or "")
        return client.calls > 0
    except StravaError as exc:
        retry = timezone.now() + timedelta(seconds=min(3600, 30 * 2 ** min(event.attempts, 6)))
        if event.attempts >= settings.WEBHOOKS_MAX_ATTEMPTS:
            _finish(event, "failed", error=exc.message or type(exc).__name__)
        else:
            E.objects.filter(pk=event.pk).update(claimed_until=None, next_attempt_at=retry,
                                                 error=exc.message or type(exc).__name__)
        return client.calls > 0
    activities_upsert(athlete_id=event.athlete_id, summaries=[detail])
    activity = Activity.objects.get(strava_id=detail["id"])
    activity_store_detail(activity=activity, detail=detail)
    settled = _upload_settle(event.athlete_id, detail)
    _finish(event, "activity stored with details" + (" and its upload settled" if settled else ""))
    return True


def _upload_settle(athlete_id: int | None, detail: dict[str, Any]) -> bool:
    """If the activity is one of our uploads still processing, it is done: no confirmer call."""
    if athlete_id is None or not detail.get("id"):
        return False
    match = Q()
    if detail.get("upload_id"):
        match |= Q(strava_upload_id=detail["upload_id"])
    found = _EXTERNAL_ID.match(str(detail.get("external_id") or ""))
    if found:
        match |= Q(pk=int(found.group(1)))
    if not match:
        return False
    upload = Upload.objects.filter(match, athlete_id=athlete_id, status=Upload.Status.PROCESSING).first()
    if upload is None:
        return False
    return bool(upload_transition(upload_id=upload.pk, to=Upload.Status.DONE, expect=[Upload.Status.PROCESSING],
                                  reason="", activity_id=detail["id"], duplicate_of_activity=None))


# --- our subscription -----------------------------------------------------------------------------
def callback_url() -> str:
    return f"{settings.SITE_URL}/strava/webhook/"


def subscriptions_refresh() -> list[dict[str, Any]]:
    """Ask Strava for our subscriptions and keep our row in step with its answer."""
    found = StravaClient(priority=Priority.INTERACTIVE).list_push_subscriptions() or []
    ids = [int(s["id"]) for s in found]
    with transaction.atomic():
        WebhookSubscription.objects.exclude(strava_id__in=ids).delete()
        for item in found:
            WebhookSubscription.objects.update_or_create(
                strava_id=int(item["id"]), defaults={"callback_url": item.get("callback_url", "")})
    return found


def subscription_create() -> WebhookSubscription:
    """Subscribe our callback (Strava GETs it for the handshake before answering)."""
    url = callback_url()
    answer = StravaClient(priority=Priority.INTERACTIVE).create_push_subscription(
        callback_url=url, verify_token=settings.STRAVA_WEBHOOK_VERIFY_TOKEN)
    subscription, _ = WebhookSubscription.objects.update_or_create(
        strava_id=int(answer["id"]), defaults={"callback_url": url})
    return subscription


def subscription_delete(*, strava_id: int) -> None:
    StravaClient(priority=Priority.INTERACTIVE).delete_push_subscription(strava_id)
    WebhookSubscription.objects.filter(strava_id=strava_id).delete()
