from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ops.selectors import dashboard_status
from stravasync.redirects import safe_next_url

from . import selectors, services


def _next_path(request: HttpRequest) -> str:
    """`next` when it is a path on this site (a page that sent the visitor to sign in), else ""."""
    candidate = safe_next_url(request, "")
    return candidate if candidate.startswith("/") else ""


def home(request: HttpRequest) -> HttpResponse:
    next_path = _next_path(request)
    if request.user.is_authenticated and selectors.athlete_for_user(user=request.user):
        return redirect(next_path or "dashboard")
    # The connect form hands `next` to social-auth, which keeps it through Strava and redirects there at the end.
    return render(request, "accounts/home.html", {"next": next_path})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    athlete = selectors.athlete_for_user(user=request.user)
    if athlete is None:
        return render(request, "accounts/home.html")
    context = {"athlete": athlete, "token_state": selectors.token_state(athlete=athlete),
               "status": dashboard_status(athlete=athlete)}
    return render(request, "accounts/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest) -> HttpResponse:
    athlete = selectors.athlete_for_user(user=request.user)
    if athlete is None:
        return redirect("home")
    if request.method == "GET":
        return render(request, "accounts/disconnect.html", {"athlete": athlete})
    delete_data = request.POST.get("data") == "delete"
    services.athlete_disconnect(athlete=athlete, delete_data=delete_data)
    logout(request)
    if delete_data:
        messages.success(request, "Disconnected from Strava. Your data was deleted.")
    else:
        messages.success(request, "Disconnected from Strava. Your data is kept; connect again to resume.")
    return redirect("home")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "Signed out. Connect with Strava to sign in again.")
    return redirect("home")
