"""DI tokens shaped as Garmin's are: HS256 JWTs whose payload the client reads (`client_id`, `exp`).

The library decodes the payload without verifying it (it has no key) to learn when to refresh and
which client id to refresh as; the simulator signs with a key of its own and checks the signature,
so a token edited by hand is refused as Garmin would refuse it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key() -> bytes:
    return hashlib.sha256(f"sandbox-garmin-di:{settings.SECRET_KEY}".encode()).digest()


def encode(payload: dict[str, Any]) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(_key(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def decode(token: str) -> dict[str, Any] | None:
    """The payload of a token this simulator signed, else None (expiry is the caller's business)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        expected = hmac.new(_key(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            return None
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
