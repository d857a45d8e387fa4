"""The dispatcher tick: every backlog takes the permits the quota grants now, and no more."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def dispatch_tick() -> dict[str, int]:
    """Run each registered step once (settings.DISPATCH_STEPS); a failing step never stops the others."""
    done: dict[str, int] = {}
    for path in settings.DISPATCH_STEPS:
        try:
            done[path] = int(import_string(path)() or 0)
        except Exception:  # noqa: BLE001 - the loop must survive one bad step
            logger.exception("dispatch step %s failed", path)
            done[path] = 0
    return done
