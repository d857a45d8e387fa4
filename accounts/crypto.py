"""Encryption at rest for OAuth tokens (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    # No dedicated key configured: derive one from SECRET_KEY so a fresh install works;
    # production sets TOKEN_ENCRYPTION_KEY so rotating SECRET_KEY does not orphan tokens.
    derived = base64.urlsafe_b64encode(hashlib.sha256(b"stravasync-tokens:" + secret_key.encode()).digest())
    return MultiFernet([Fernet(derived)])


def cipher() -> MultiFernet:
    return _fernet(settings.TOKEN_ENCRYPTION_KEY, settings.SECRET_KEY)


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; the plain value exists only in Python memory."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return cipher().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("A token could not be decrypted: TOKEN_ENCRYPTION_KEY changed?") from exc

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return cipher().encrypt(value.encode()).decode()
