"""Display helpers for activities: durations, distances, paces, sport names."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape, format_html

from accounts.models import Athlete
from warehouse.selectors import activity_hrefs

register = template.Library()

# Sports whose speed people read as a pace (minutes per km) rather than km/h.
PACE_SPORTS = {"Run", "TrailRun", "VirtualRun", "Walk", "Hike", "Snowshoe"}


@register.filter
def duration(seconds: int | float | str | None) -> str:  # a template may hand over "" for a missing value
    """3725 -> "1:02:05"; 65 -> "1:05"."""
    if seconds is None or seconds == "":
        return ""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def km(metres: float | str | None, digits: int = 1) -> str:
    if metres is None or metres == "":
        return ""
    return f"{float(metres) / 1000:,.{int(digits)}f} km"


@register.filter
def speed(metres_per_second: float | None, sport: str = "") -> str:
    """A pace for foot sports ("4:35 /km"), 100 m times for swims, km/h otherwise."""
    if not metres_per_second:
        return ""
    value = float(metres_per_second)
    if sport == "Swim":
        return f"{duration(100 / value)} /100 m"
    if sport in PACE_SPORTS:
        return f"{duration(1000 / value)} /km"
    return f"{value * 3.6:.1f} km/h"


@register.filter
def sport_label(sport: str | None) -> str:
    """"MountainBikeRide" -> "Mountain Bike Ride"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", sport or "")


@register.filter
def get(mapping: dict | None, key: object) -> object:
    """A dict value by a variable key (tables per sport)."""
    return (mapping or {}).get(key)


@register.filter
def hours(seconds: float | None) -> str:
    if not seconds:
        return ""
    return f"{float(seconds) / 3600:,.1f} h"


@register.simple_tag(takes_context=True)
def activity_link(context: template.Context, strava_id: int | None, text: str = "") -> str:
    """`<a>` to an activity where a person can read it (see `activity_hrefs`), else the text alone."""
    if not strava_id:
        return ""
    label = text or f"activity {strava_id}"
    request = context.get("request")
    user = getattr(request, "user", None)
    # Once per page render, not once per row.
    if "athlete_id" not in context.render_context:
        context.render_context["athlete_id"] = (
            Athlete.objects.filter(user=user).values_list("id", flat=True).first()
            if user is not None and user.is_authenticated else None
        )
    href = activity_hrefs(athlete_id=context.render_context["athlete_id"], strava_ids=[strava_id]).get(strava_id)
    if href is None:
        return conditional_escape(label)
    return format_html('<a href="{}">{}</a>', href, label)
