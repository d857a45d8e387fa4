"""Upload reasons for pages: plain words, the stored technical reason one click away."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from uploads.reasons import reason_words

register = template.Library()


@register.filter
def reason(text: str | None) -> SafeString:
    """The reason in words; a <details> opens on the stored reason when they differ."""
    said = reason_words(text)
    if not said.detail:
        return format_html('<span class="reason">{}</span>', said.words)
    return format_html('<details class="reason"><summary>{}</summary><code>{}</code></details>', said.words,
                       said.detail)
