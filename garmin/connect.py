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

from .pacing import PacedAdapter, pacer_acquire, pacer_release
from .transport import SimulatorAdapter


def garmin_api(tokens: str) -> Garmin:
    """A client holding `tokens` (garminconnect's dumps() JSON); no request is made here."""
    api = Garmin(retry_attempts=0)  # retries are the pacer's and the next check's business, not a sleep here
    api.client.loads(tokens)
    base = settings.GARMIN_SANDBOX_URL
    inner = SimulatorAdapter(base) if base else None
    for session in (api.client._api_session, api.client.cs):
        session.mount("https://", PacedAdapter(inner))
    refresh_post = api.client._http_post

    def paced_post(url: str, **kwargs: Any) -> Any:
        if base:  # the simulator's token endpoint, over plain requests (the adapter paces it)
            kwargs.setdefault("timeout", settings.GARMIN_HTTP_TIMEOUT)
            return api.client.cs.post(url, **kwargs)
        pacer_acquire()
        status = None
        try:
            response = refresh_post(url, **kwargs)
            status = response.status_code
            return response
        finally:
            pacer_release(status=status)

    api.client._http_post = paced_post  # type: ignore[method-assign]
    return api

