"""The Garmin page: connect (email and password, then the MFA code if Garmin asks), status,
backfill, retry, disconnect. Thin: the sign-in is garmin.signin, the rest garmin.services."""

from __future__ import annotations

import json
import time

from cryptography.fernet import InvalidToken
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.crypto import cipher
from accounts.models import Athlete
from accounts.selectors import athlete_for_user
from stravasync.logfilters import secret_request

from . import selectors, services
from .forms import GarminBackfillForm, GarminMfaForm, GarminSignInForm
from .signin import SignInRefused, signin_finish, signin_start

MFA_SESSION_KEY = "garmin_mfa"
MFA_SECONDS = 300  # Garmin's pending sign-in lasts a few minutes


def _athlete(request: HttpRequest) -> Athlete:
    athlete = athlete_for_user(user=request.user)
    if athlete is None:
        raise Http404("Connect Strava first")
    return athlete


@login_required
def garmin_page(request: HttpRequest) -> HttpResponse:
    athlete = _athlete(request)
    context = {
        "status": selectors.garmin_status(athlete=athlete),
        "activities": selectors.garmin_activities(athlete=athlete),
        "signin_form": GarminSignInForm(),
        "backfill_form": GarminBackfillForm(),
    }
    return render(request, "garmin/garmin.html", context)


@secret_request
@login_required
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    athlete = _athlete(request)
    form = GarminSignInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the email and password of your Garmin Connect account.")
        return redirect("garmin:page")
    password = form.cleaned_data["password"]
    try:
        step = signin_start(email=form.cleaned_data["email"], password=password)
    except SignInRefused as exc:
        messages.error(request, str(exc))
        return redirect("garmin:page")
    finally:
        del password
    if step.mfa_state is not None:
        # The pending sign-in's cookies are as sensitive as a password: kept encrypted, for minutes.
        sealed = cipher().encrypt(json.dumps(step.mfa_state).encode()).decode()
        request.session[MFA_SESSION_KEY] = {"state": sealed, "at": time.time()}
        return redirect("garmin:mfa")
    services.garmin_connect(athlete=athlete, tokens=step.tokens)
    messages.success(request, "Garmin Connect is connected: your new activities will reach Strava by themselves.")
    return redirect("garmin:page")


@secret_request
@login_required
def mfa(request: HttpRequest) -> HttpResponse:
    athlete = _athlete(request)
    pending = request.session.get(MFA_SESSION_KEY)
    if not pending or time.time() - pending.get("at", 0) > MFA_SECONDS:
        request.session.pop(MFA_SESSION_KEY, None)
        messages.error(request, "The sign-in waited too long for its code; sign in again.")
        return redirect("garmin:page")
    form = GarminMfaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            state = json.loads(cipher().decrypt(pending["state"].encode()))
            tokens = signin_finish(mfa_state=state, code=form.cleaned_data["code"].strip())
        except (SignInRefused, InvalidToken) as exc:
            messages.error(request, str(exc) or "That sign-in cannot be finished; sign in again.")
            return redirect("garmin:mfa")
        request.session.pop(MFA_SESSION_KEY, None)
        services.garmin_connect(athlete=athlete, tokens=tokens)
        messages.success(request, "Garmin Connect is connected: your new activities will reach Strava by themselves.")
        return redirect("garmin:page")
    return render(request, "garmin/mfa.html", {"form": form})


@login_required
@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    if services.garmin_disconnect(athlete=_athlete(request)):
        messages.success(request, "Garmin Connect is disconnected; its session was deleted.")
    return redirect("garmin:page")


@login_required
@require_POST
def check_now(request: HttpRequest) -> HttpResponse:
    services.garmin_check_soon(athlete=_athlete(request))
    messages.info(request, "A check of your Garmin account is on its way.")
    return redirect("garmin:page")


@login_required
@require_POST
def backfill(request: HttpRequest) -> HttpResponse:
    athlete = _athlete(request)
    form = GarminBackfillForm(request.POST)
    if form.is_valid() and services.garmin_backfill_request(athlete=athlete, since=form.cleaned_data["since"]):
        messages.success(request, f"Bringing your Garmin activities since {form.cleaned_data['since']:%d %b %Y}.")
    else:
        messages.error(request, "Give a date, with Garmin connected.")
    return redirect("garmin:page")


@login_required
@require_POST
def retry(request: HttpRequest, garmin_id: int) -> HttpResponse:
    if not services.garmin_activity_retry(athlete=_athlete(request), garmin_id=garmin_id):
        raise Http404("No such failed Garmin activity")
    messages.success(request, "It will be tried again at the next check, in a moment.")
    return redirect("garmin:page")
