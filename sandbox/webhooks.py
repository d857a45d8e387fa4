"""Push subscriptions, as Strava runs them: a synchronous handshake and events POSTed in the background."""

from __future__ import annotations

import logging
import secrets
import threading
import time

import requests
from django.db import transaction

from sandbox.models import SimPushSubscription

log = logging.getLogger(__name__)

# Strava's own figures: the callback must answer within 2 s, and an event is tried up to 3 times.
CALLBACK_TIMEOUT = 2.0
ATTEMPTS = 3

_deliveries: list[threading.Thread] = []
_deliveries_lock = threading.Lock()


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
        time.sleep(0.2 * (attempt + 1))


def _start(url: str, payload: dict[str, object]) -> None:
    thread = threading.Thread(target=_deliver, args=(url, payload), daemon=True, name="sandbox-webhook")
    with _deliveries_lock:
        _deliveries[:] = [t for t in _deliveries if t.is_alive()]
        _deliveries.append(thread)
    thread.start()


def event_send(
    *, client_id: str, object_type: str, object_id: int, aspect_type: str, owner_id: int, updates: dict | None = None
) -> None:
    """POST an event to the application's subscription, if any, once the current transaction commits."""
    subscription = SimPushSubscription.objects.filter(client_id=client_id).first()
    if subscription is None:
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


def deliveries_wait(timeout: float = 10.0) -> None:
    """Wait for events still being delivered (tests, and commands that exit)."""
    deadline = time.monotonic() + timeout
    with _deliveries_lock:
        pending = list(_deliveries)
    for thread in pending:
        thread.join(max(0.0, deadline - time.monotonic()))
