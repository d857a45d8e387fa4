"""Secrets kept out of logs and error reports: a logging filter that masks OAuth secrets and
passwords wherever they appear in a record, and an error-report filter for requests that carry a password."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|di_token|di_refresh_token|client_secret|code|authorization|password)['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"
    ),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class SecretRequestsReportFilter(SafeExceptionReporterFilter):
    """Error reports (the debug page, the admins' e-mail) of a request that carries a password show
    no frame's variables at all: the password also travels through library frames (requests, the
    Garmin client) that `sensitive_variables` cannot mark. A view opts in with `secret_request`."""

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        if request is not None and getattr(request, "carries_secret", False):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)

    def is_active(self, request: Any) -> bool:
        # Unlike Django's default, also with DEBUG on: a password must not reach even a developer's page.
        if request is not None and getattr(request, "carries_secret", False):
            return True
        return super().is_active(request)


def secret_request[F: Callable[..., Any]](view: F) -> F:
    """Mark a view's requests as carrying a password: its error reports hide every POST value and frame variable."""

    @functools.wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        request.carries_secret = True
        request.sensitive_post_parameters = "__ALL__"
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
