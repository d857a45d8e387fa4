from __future__ import annotations

from django import template

from segments.charts import duration as _duration

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as m:ss or h:mm:ss, the way Strava shows segment times."""
    return "" if seconds is None else _duration(seconds)


@register.filter
def km(metres: float | None) -> str:
    return "" if metres is None else f"{metres / 1000:.2f} km"
