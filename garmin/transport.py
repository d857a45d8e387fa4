"""The Garmin library pointed at the simulator: its requests to Garmin's hosts rewritten to a base URL.

garminconnect accepts only garmin.com and garmin.cn, so it cannot be configured to talk to anything
else. Its API calls go through `client._api_session` and its DI token refreshes through a POST that
uses curl_cffi when installed (a TLS imitation no local server needs); `route_to` mounts a rewriting
adapter on both requests sessions and sends that POST through `client.cs`, so the real library runs
unchanged over real HTTP against /sandbox/garmin/ (sandbox mode, tests, the demo).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import garminconnect
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.utils import get_environ_proxies

# Garmin's host -> the folder below the simulator's base URL that serves it.
HOSTS = {"https://connectapi.garmin.com/": "connectapi/", "https://diauth.garmin.com/": "diauth/"}


class SimulatorAdapter(HTTPAdapter):
    """Sends a request for one of Garmin's hosts to the same path below `base_url` instead."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/") + "/"

    def rewrite(self, url: str) -> str:
        for prefix, folder in HOSTS.items():
            if url.startswith(prefix):
                return self.base_url + folder + url.removeprefix(prefix)
        return url

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.url:
            request.url = self.rewrite(request.url)
            # Proxies were chosen for garmin.com; choose again for where the request now goes (NO_PROXY, ...).
            kwargs["proxies"] = get_environ_proxies(request.url)
        return super().send(request, *args, **kwargs)


def route_to(client: garminconnect.Garmin, base_url: str, *, wrap: Callable[[BaseAdapter], BaseAdapter] | None = None) -> None:
    """Every request `client` makes to connectapi or diauth goes to `base_url` (e.g. http://host/sandbox/garmin).

    `wrap` puts another adapter around the rewriting one (the app's pacer).
    """
    inner = client.client
    adapter: BaseAdapter = SimulatorAdapter(base_url)
    if wrap is not None:
        adapter = wrap(adapter)
    for session in (inner._api_session, inner.cs):
        for prefix in HOSTS:
            session.mount(prefix, adapter)

    def post(url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return inner.cs.post(url, **kwargs)

    # The refresh POST would go through curl_cffi, past both sessions; an instance attribute sends it through cs.
    setattr(inner, "_http_post", post)  # noqa: B010
