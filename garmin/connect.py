"""A garminconnect client for one athlete's saved session, every request of it paced (and, in
sandbox mode, sent to the simulator instead of Garmin).

The library sends its API calls through two ordinary requests Sessions, on which we mount our
adapter, and its DI token refresh through a module-level POST (curl_cffi when installed), which we
wrap on the client object: that is the whole surface, so no Garmin request escapes the pacer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from garminconnect import Garmin

from .pacing import PacedAdapter, pacer_turn
from .transport import route_to


def garmin_api(tokens: str) -> Garmin:
    """A client holding `tokens` (garminconnect's dumps() JSON); no request is made here."""
    api = Garmin(retry_attempts=0)  # retries are the pacer's and the next check's business, not a sleep here
    api.client.loads(tokens)
    if settings.GARMIN_SANDBOX_URL:
        # The simulator: requests (the refresh POST included) go through the sessions, paced by the adapter.
        route_to(api, settings.GARMIN_SANDBOX_URL, wrap=PacedAdapter)
        return api
    for session in (api.client._api_session, api.client.cs):
        session.mount("https://", PacedAdapter())
    refresh_post = api.client._http_post

    def paced_post(url: str, **kwargs: Any) -> Any:
        with pacer_turn() as turn:
            response = refresh_post(url, **kwargs)
            turn.status = response.status_code
            return response

    api.client._http_post = paced_post  # type: ignore[method-assign]
    return api
