"""manage.py strava_webhook subscribe|list|unsubscribe: our application's push subscription at Strava."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from stravasync.strava.errors import StravaError
from webhooks import services


class Command(BaseCommand):
    help = "Subscribe SITE_URL/strava/webhook/ to Strava's push events, list the subscription, or remove it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["subscribe", "list", "unsubscribe"])
        parser.add_argument("--id", type=int, help="the subscription to remove (default: every one listed)")

    def handle(self, *args: Any, action: str, id: int | None = None, **options: Any) -> None:
        try:
            if action == "subscribe":
                if not settings.STRAVA_WEBHOOK_VERIFY_TOKEN:
                    raise CommandError("set STRAVA_WEBHOOK_VERIFY_TOKEN first")
                subscription = services.subscription_create()
                self.stdout.write(f"subscribed {subscription.strava_id}: {subscription.callback_url}")
            elif action == "list":
                found = services.subscriptions_refresh()
                for item in found:
                    self.stdout.write(f"{item['id']}: {item.get('callback_url', '')}")
                self.stdout.write(f"{len(found)} subscription(s)")
            else:
                ids = [id] if id else [int(item["id"]) for item in services.subscriptions_refresh()]
                for strava_id in ids:
                    services.subscription_delete(strava_id=strava_id)
                    self.stdout.write(f"unsubscribed {strava_id}")
        except StravaError as exc:
            raise CommandError(f"Strava refused: {exc.message or type(exc).__name__}") from exc
