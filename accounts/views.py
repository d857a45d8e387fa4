from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ops.selectors import dashboard_status

from . import selectors, services


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and selectors.athlete_for_user(user=request.user):
        return redirect("dashboard")
    return render(request, "accounts/home.html")


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
    return redirect("home")
