"""PLACEHOLDER: replaced by the simulator helper's version at merge."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

_HOSTS = {"connectapi.garmin.com": "connectapi", "diauth.garmin.com": "diauth"}


def simulator_url(url: str, base_url: str) -> str:
    parts = urlsplit(url)
    prefix = _HOSTS.get(parts.hostname or "")
    if prefix is None:
        return url
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{base_url.rstrip('/')}/{prefix}{rest}"


class SimulatorAdapter(HTTPAdapter):
    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        request.url = simulator_url(request.url or "", self.base_url)
        return super().send(request, *args, **kwargs)
