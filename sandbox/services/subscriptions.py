"""Push subscriptions: one per application, created only after the callback's handshake."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from sandbox import webhooks
from sandbox.errors import ApiError, bad_request
from sandbox.models import (
    SimPushSubscription,
)


def push_subscription_create(*, client_id: str, callback_url: str, verify_token: str) -> SimPushSubscription:
    """One per application; the callback must pass the handshake first."""
    if SimPushSubscription.objects.filter(client_id=client_id).exists():
        raise bad_request("PushSubscription", "", "already exists")
    if not callback_url:
        raise bad_request("PushSubscription", "callback_url", "empty")
    # Longer values would not fit their columns (PostgreSQL raises where SQLite keeps them).
    if len(callback_url) > SimPushSubscription.CALLBACK_URL_MAX:
        raise bad_request("PushSubscription", "callback_url")
    if len(verify_token) > SimPushSubscription.VERIFY_TOKEN_MAX:
        raise bad_request("PushSubscription", "verify_token")
    if not webhooks.handshake(callback_url=callback_url, verify_token=verify_token):
        raise bad_request("PushSubscription", "callback url", "not verifiable")
    try:
        with transaction.atomic():
            return SimPushSubscription.objects.create(client_id=client_id, callback_url=callback_url, verify_token=verify_token)
    except IntegrityError:
        raise bad_request("PushSubscription", "", "already exists") from None


def push_subscription_delete(*, client_id: str, subscription_id: int) -> None:
    deleted, _ = SimPushSubscription.objects.filter(pk=subscription_id, client_id=client_id).delete()
    if not deleted:
        raise ApiError(404, "Record Not Found", [{"resource": "PushSubscription", "field": "id", "code": "invalid"}])
