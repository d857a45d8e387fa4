"""Push subscriptions, as Strava runs them: a synchronous handshake and events POSTed in the background."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time

import requests
from django.db import transaction

from sandbox.models import SimActivity, SimConfig, SimPushSubscription, SimToken

log = logging.getLogger(__name__)

# Strava's own figures: the callback must answer within 2 s, and an event is tried up to 3 times.
CALLBACK_TIMEOUT = 2.0
ATTEMPTS = 3

# Deliveries run on a few threads of their own: seeding a connected athlete's history sends an event per
# activity, and a thread each would swamp the callback (Strava, too, delivers from a bounded pool).
WORKERS = 8

_outbox: queue.SimpleQueue[tuple[str, dict[str, object]]] = queue.SimpleQueue()
_workers: list[threading.Thread] = []
_pending = 0  # queued or being delivered
_state = threading.Condition()


def handshake(*, callback_url: str, verify_token: str) -> bool:
    """GET the callback with a challenge; it must echo `{"hub.challenge": X}` with a 200."""
    challenge = secrets.token_urlsafe(16)
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    try:
        response = requests.get(callback_url, params=params, timeout=CALLBACK_TIMEOUT)
        return response.status_code == 200 and response.json().get("hub.challenge") == challenge
    except (requests.RequestException, ValueError, AttributeError):
        return False


def _deliver(url: str, payload: dict[str, object]) -> None:
    for attempt in range(ATTEMPTS):
        try:
            if requests.post(url, json=payload, timeout=CALLBACK_TIMEOUT).status_code == 200:
                return
        except requests.RequestException as exc:
            log.info("sandbox webhook to %s failed: %s", url, exc)
        if attempt + 1 < ATTEMPTS:
            time.sleep(0.2 * (attempt + 1))


def _work() -> None:
    global _pending
    while True:
        url, payload = _outbox.get()
        try:
            _deliver(url, payload)
        except Exception:  # a delivery must never kill its worker
            log.exception("sandbox webhook delivery to %s raised", url)
        finally:
            with _state:
                _pending -= 1
                _state.notify_all()


def _start(url: str, payload: dict[str, object]) -> None:
    global _pending
    with _state:
        _pending += 1
        _workers[:] = [t for t in _workers if t.is_alive()]
        if len(_workers) < min(WORKERS, _pending):
            worker = threading.Thread(target=_work, daemon=True, name="sandbox-webhook")
            _workers.append(worker)
            worker.start()
    _outbox.put((url, payload))


def event_send(
    *, client_id: str, object_type: str, object_id: int, aspect_type: str, owner_id: int, updates: dict | None = None
) -> None:
    """POST an event to the application's subscription, if any, once the current transaction commits."""
    subscription = SimPushSubscription.objects.filter(client_id=client_id).first()
    if subscription is None:
        return
    if SimConfig.load().webhooks_down:
        log.info("sandbox webhooks are down: %s %s %s lost", object_type, object_id, aspect_type)
        return
    payload = {
        "aspect_type": aspect_type,
        "event_time": int(time.time()),
        "object_id": object_id,
        "object_type": object_type,
        "owner_id": owner_id,
        "subscription_id": subscription.pk,
        "updates": updates or {},
    }
    url = subscription.callback_url
    # After commit, so the receiver can fetch what the event announces.
    transaction.on_commit(lambda: _start(url, payload))


def activity_event_send(*, activity: SimActivity, aspect_type: str, updates: dict[str, str] | None = None) -> int:
    """An activity's event to every application the athlete has authorized; returns how many were sent.

    Privacy changes reach only grants that may read private activities (Strava's rule); an update left
    with nothing a grant may see is not sent to it.
    """
    grants = SimToken.objects.filter(athlete_id=activity.athlete_id, revoked_at__isnull=True).values_list(
        "client_id", "scope"
    )
    scopes: dict[str, set[str]] = {}
    for client_id, scope in grants:
        scopes.setdefault(client_id, set()).update(s for s in scope.split(",") if s)
    sent = 0
    for client_id, granted in sorted(scopes.items()):
        visible = dict(updates or {})
        if "activity:read_all" not in granted:
            visible.pop("private", None)
        if aspect_type == "update" and not visible:
            continue
        event_send(client_id=client_id, object_type="activity", object_id=activity.pk, aspect_type=aspect_type,
                   owner_id=activity.athlete_id, updates=visible)
        sent += 1
    return sent


def deliveries_wait(timeout: float = 10.0) -> bool:
    """Wait for the events still queued or being delivered (tests, and commands that exit); False on timeout."""
    deadline = time.monotonic() + timeout
    with _state:
        while _pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _state.wait(left)
    return True
