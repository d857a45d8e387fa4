"""Where a POST may send the browser next: only back into this site (no open redirect)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, default: str) -> str:
    """The POSTed (or queried) `next` if it stays on this host and scheme, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def redirect_next(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to `next` when it is a same-site URL, else to `default` (a path of ours)."""
    return HttpResponseRedirect(safe_next_url(request, default))
