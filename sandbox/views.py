"""Strava's endpoints, thin: parse the request, call a selector or service, shape Strava's JSON."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sandbox import selectors, serializers, services, stats, streams
from sandbox.errors import ApiError, authorization_error, bad_request, forbidden, missing_scope, not_found
from sandbox.gateway import api_view, logged, note
from sandbox.models import SimPushSubscription, SimToken

# The consent page's wording for each scope, after Strava's.
SCOPES = {
    "read": "View data about your public profile",
    "read_all": "View data about your private routes, segments, and events",
    "profile:read_all": "View your complete Strava profile",
    "profile:write": "Update your weight and Functional Threshold Power (FTP)",
    "activity:read": "View data about your activities",
    "activity:read_all": "View data about your private activities",
    "activity:write": "Upload your activities to Strava",
}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_INTEGER = re.compile(r"[+-]?[0-9]{1,24}")
EPOCH_MIN = -62135596800  # 0001-01-01T00:00:00Z
EPOCH_MAX = 253402300799  # 9999-12-31T23:59:59Z: a larger "epoch" is milliseconds, or nonsense
MAX_PAGE = 10**9  # far past any history, and the offset still fits SQL's 64-bit integers
MAX_PER_PAGE = 200


# --- OAuth ----------------------------------------------------------------------------------


def _authorize_params(request: HttpRequest) -> dict[str, str]:
    keys = ("client_id", "redirect_uri", "response_type", "state", "scope", "approval_prompt")
    if request.method != "POST":
        return {key: request.GET.get(key, "") for key in keys}
    # On the consent form `scope` names the checkboxes; the request's scopes travel as requested_scope.
    params = {key: request.POST.get(key, "") for key in keys}
    params["scope"] = request.POST.get("requested_scope", "")
    return params


def _requested_scopes(params: dict[str, str]) -> list[str]:
    scopes = [s.strip() for s in (params["scope"] or "read").split(",") if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise bad_request("Application", "scope")
    return list(dict.fromkeys(scopes))


def _check_authorize(params: dict[str, str]) -> list[str]:
    services.client_check(client_id=params["client_id"])
    if params["response_type"] != "code":
        raise bad_request("Application", "response_type")
    if urlsplit(params["redirect_uri"]).scheme not in ("http", "https"):
        raise bad_request("Application", "redirect_uri")
    return _requested_scopes(params)


def _redirect(redirect_uri: str, params: dict[str, str]) -> HttpResponseRedirect:
    """Append to the callback's own query string, commas left readable as Strava does."""
    parts = urlsplit(redirect_uri)
    extra = urlencode(params, safe=",:")
    return HttpResponseRedirect(urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra)))


def _consent_page(request: HttpRequest, params: dict[str, str], scopes: list[str]) -> HttpResponse:
    context = {
        "params": params,
        "application_name": settings.SANDBOX_APPLICATION_NAME,
        "scopes": [(scope, SCOPES[scope]) for scope in scopes],
        "athletes": selectors.athletes_for_consent(),
        "csrf_token": get_token(request),
    }
    # No RequestContext: the simulator must not depend on the app's context processors.
    return HttpResponse(render_to_string("sandbox/authorize.html", context))


@logged
def authorize(request: HttpRequest) -> HttpResponse:
    """GET: the consent page. POST: the athlete's answer, sent back to redirect_uri."""
    params = _authorize_params(request)
    try:
        scopes = _check_authorize(params)
    except ApiError as exc:
        return exc.response()
    if request.method != "POST":
        return _consent_page(request, params, scopes)
    if "cancel" in request.POST:
        return _redirect(params["redirect_uri"], {"state": params["state"], "error": "access_denied"})

    choice = request.POST.get("athlete", "new")
    athlete = None
    if choice != "new":
        athlete = selectors.athlete_get(athlete_id=int(choice)) if _INTEGER.fullmatch(choice) else None
        if athlete is None:
            return bad_request("Athlete", "id").response()
    if selectors.athlete_limit_reached(client_id=params["client_id"], athlete_id=athlete.pk if athlete else None):
        return HttpResponse(render_to_string("sandbox/athlete_limit.html"), status=403)
    if athlete is None:
        athlete = services.sim_athlete_create(
            firstname=request.POST.get("firstname", ""), lastname=request.POST.get("lastname", "")
        )
    ticked = set(request.POST.getlist("scope"))
    accepted = [scope for scope in scopes if scope in ticked]
    code = services.auth_code_issue(athlete=athlete, client_id=params["client_id"], scopes=accepted)
    note(request, athlete_id=athlete.pk)
    return _redirect(params["redirect_uri"], {"state": params["state"], "code": code.code, "scope": ",".join(accepted)})


def _param(request: HttpRequest, name: str) -> str:
    return request.POST.get(name) or request.GET.get(name) or ""


@csrf_exempt
@logged
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    """Code exchange (with the athlete) or refresh (rotating the refresh token)."""
    try:
        services.client_check(client_id=_param(request, "client_id"), client_secret=_param(request, "client_secret"))
        grant_type = _param(request, "grant_type") or "authorization_code"
        if grant_type == "authorization_code":
            grant = services.token_exchange(client_id=_param(request, "client_id"), code=_param(request, "code"))
            body = serializers.token(grant, athlete=grant.athlete)
        elif grant_type == "refresh_token":
            grant = services.token_refresh(client_id=_param(request, "client_id"), refresh_token=_param(request, "refresh_token"))
            body = serializers.token(grant)
        else:
            raise bad_request("Application", "grant_type")
    except ApiError as exc:
        return exc.response()
    note(request, athlete_id=grant.athlete_id)
    return JsonResponse(body)


@csrf_exempt
@logged
@require_POST
def deauthorize(request: HttpRequest) -> HttpResponse:
    access_token = selectors.bearer_token(request) or _param(request, "access_token")
    grant = selectors.token_get(access_token=access_token)
    if grant is None or not grant.access_valid():
        return authorization_error().response()
    note(request, client_id=grant.client_id, athlete_id=grant.athlete_id)
    services.tokens_revoke(token=grant)
    return JsonResponse({"access_token": access_token})


# --- api/v3 ---------------------------------------------------------------------------------


def _methods(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise not_found("resource", "path")


def _require(token: SimToken, scopes: set[str], permission: str) -> None:
    if not token.scopes & scopes:
        raise missing_scope(permission)


def _int(request: HttpRequest, name: str, default: int | None = None) -> int | None:
    """A whole number of the query string; anything else is Strava's 400 `invalid`, never a server error."""
    value = request.GET.get(name, "").strip()
    if value == "":
        return default
    if not _INTEGER.fullmatch(value):
        raise bad_request("Application", name)
    return int(value)


def _epoch(request: HttpRequest, name: str) -> int | None:
    """`before`/`after`: epoch seconds; milliseconds (or any date past year 9999) are Strava's 400 `future`."""
    value = _int(request, name)
    if value is not None and value > EPOCH_MAX:
        raise bad_request("Application", name, "future")
    if value is not None and value < EPOCH_MIN:
        raise bad_request("Application", name)
    return value


def _bool(value: str | None) -> bool | None:
    value = (value or "").strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


@api_view()
def athlete(request: HttpRequest, token: SimToken) -> HttpResponse:
    _methods(request, "GET")
    _require(token, selectors.PROFILE_READ_SCOPES, "read_permission")
    shape = serializers.athlete_detailed if "profile:read_all" in token.scopes else serializers.athlete_summary
    return JsonResponse(shape(token.athlete))


@api_view()
def athlete_activities(request: HttpRequest, token: SimToken) -> HttpResponse:
    _methods(request, "GET")
    _require(token, selectors.ACTIVITY_READ_SCOPES, "activity:read_permission")
    services.uploads_process_due(athlete_id=token.athlete_id)
    activities = selectors.activities_list(
        athlete_id=token.athlete_id,
        include_private="activity:read_all" in token.scopes,
        before=_epoch(request, "before"),
        after=_epoch(request, "after"),
        page=min(MAX_PAGE, max(1, _int(request, "page", 1) or 1)),
        per_page=min(MAX_PER_PAGE, max(1, _int(request, "per_page", 30) or 30)),
    )
    return JsonResponse([serializers.activity_summary(a) for a in activities], safe=False)


@api_view()
def athlete_stats(request: HttpRequest, token: SimToken, athlete_id: int) -> HttpResponse:
    """Only the token's own athlete: Strava refuses anyone else's stats."""
    _methods(request, "GET")
    _require(token, selectors.PROFILE_READ_SCOPES | selectors.ACTIVITY_READ_SCOPES, "read_permission")
    if athlete_id != token.athlete_id:
        raise forbidden("Athlete")
    return JsonResponse(stats.athlete_stats(athlete=token.athlete))


@api_view(writes=("PUT",))
def activity(request: HttpRequest, token: SimToken, activity_id: int) -> HttpResponse:
    """GET: the detailed activity. PUT: Strava's UpdatableActivity (activity:write), answered with the activity."""
    _methods(request, "GET", "PUT")
    if request.method == "PUT":
        _require(token, {"activity:write"}, "activity:write_permission")
    else:
        _require(token, selectors.ACTIVITY_READ_SCOPES, "activity:read_permission")
    found = selectors.activity_get(
        activity_id=activity_id, athlete_id=token.athlete_id, include_private="activity:read_all" in token.scopes
    )
    if found is None:
        raise not_found("Activity")
    if request.method == "PUT":
        body = _body(request)
        services.sim_activity_update(activity=found, changes=services.ActivityChanges(
            name=_text(body, "name"), sport_type=_text(body, "sport_type"), type=_text(body, "type"),
            description=_text(body, "description"), gear_id=_text(body, "gear_id"),
            commute=_flag(body, "commute"), trainer=_flag(body, "trainer"), hide_from_home=_flag(body, "hide_from_home"),
        ))
    include_all = request.GET.get("include_all_efforts", "").lower() in _TRUE
    efforts = selectors.activity_efforts(activity=found, include_all=include_all)
    prs = selectors.segment_prs(athlete_id=token.athlete_id, segment_ids=[e.segment_id for e in efforts])
    return JsonResponse(serializers.activity_detailed(found, efforts=efforts, prs=prs))


@api_view(writes=("POST",))
def activities(request: HttpRequest, token: SimToken) -> HttpResponse:
    """POST: a manual activity (createActivity): name, sport_type (or type), start_date_local, elapsed_time required."""
    _methods(request, "POST")
    _require(token, {"activity:write"}, "activity:write_permission")
    body = _body(request)
    missing = [f for f in ("name", "start_date_local", "elapsed_time") if not _text(body, f)]
    if not (_text(body, "sport_type") or _text(body, "type")):
        missing.insert(1, "sport_type")
    if missing:
        raise bad_request("Activity", missing[0], "missing")
    elapsed = _text(body, "elapsed_time") or ""
    if not _INTEGER.fullmatch(elapsed):
        raise bad_request("Activity", "elapsed_time")
    try:
        start = datetime.fromisoformat(_text(body, "start_date_local") or "")
    except ValueError:
        raise bad_request("Activity", "start_date_local") from None
    try:
        distance = float(_text(body, "distance") or 0)
    except ValueError:
        distance = math.nan
    if not math.isfinite(distance):
        raise bad_request("Activity", "distance")
    created = services.sim_activity_create(
        athlete=token.athlete, name=_text(body, "name") or "", sport_type=_text(body, "sport_type") or _text(body, "type") or "",
        start_date_local=start, elapsed_time=int(elapsed), description=_text(body, "description") or "",
        distance=distance, trainer=bool(_flag(body, "trainer")), commute=bool(_flag(body, "commute")),
    )
    return JsonResponse(serializers.activity_detailed(created, efforts=[], prs={}), status=201)


def _body(request: HttpRequest) -> dict[str, object]:
    """A write's parameters: a JSON object, or form fields (as stravalib sends them), or the query string."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise bad_request("Activity", "body") from None
        if not isinstance(data, dict):
            raise bad_request("Activity", "body")
        return data
    form = request.POST if request.method == "POST" else QueryDict(request.body)
    return {**request.GET.dict(), **form.dict()}


def _text(body: dict[str, object], name: str) -> str | None:
    value = body.get(name)
    return None if value is None else str(value)


def _flag(body: dict[str, object], name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    flag = _bool(str(value))
    if flag is None:
        raise bad_request("Activity", name)
    return flag


def _form(request: HttpRequest, name: str) -> str:
    """A form field from the multipart body or, when the body lacks it, the query string (as stravalib sends them)."""
    return request.POST[name] if name in request.POST else request.GET.get(name, "")


@api_view()
def activity_streams(request: HttpRequest, token: SimToken, activity_id: int) -> HttpResponse:
    _methods(request, "GET")
    _require(token, selectors.ACTIVITY_READ_SCOPES, "activity:read_permission")
    found = selectors.activity_get(
        activity_id=activity_id, athlete_id=token.athlete_id, include_private="activity:read_all" in token.scopes
    )
    if found is None:
        raise not_found("Activity")
    body = streams.stream_set(
        found,
        streams.activity_streams(found),
        keys=streams.requested_keys(request.GET.getlist("keys")),
        key_by_type=_bool(request.GET.get("key_by_type")) is True,
    )
    return JsonResponse(body, safe=False)


@api_view(writes=("POST",))
def uploads(request: HttpRequest, token: SimToken) -> HttpResponse:
    _methods(request, "POST")
    _require(token, {"activity:write"}, "activity:write_permission")
    upload_file = request.FILES.get("file")
    if upload_file is None:
        raise bad_request("Upload", "file", "empty")
    upload = services.upload_create(
        token=token,
        data=upload_file.read(),
        filename=upload_file.name or "upload",
        data_type=_form(request, "data_type").strip().lower(),
        name=_form(request, "name"),
        description=_form(request, "description"),
        trainer=_bool(_form(request, "trainer")),
        commute=_bool(_form(request, "commute")),
        external_id=_form(request, "external_id"),
        activity_type=_form(request, "activity_type"),
    )
    return JsonResponse(serializers.upload(upload, status=selectors.upload_status(upload)), status=201)


@api_view()
def upload(request: HttpRequest, token: SimToken, upload_id: int) -> HttpResponse:
    _methods(request, "GET")
    _require(token, {"activity:write"}, "activity:write_permission")
    services.uploads_process_due(athlete_id=token.athlete_id)
    found = selectors.upload_get(upload_id=upload_id, athlete_id=token.athlete_id)
    if found is None:
        raise not_found("Upload")
    return JsonResponse(serializers.upload(found, status=selectors.upload_status(found)))


@api_view()
def segment(request: HttpRequest, token: SimToken, segment_id: int) -> HttpResponse:
    _methods(request, "GET")
    _require(token, {"read", "read_all"}, "read_permission")
    found = selectors.segment_get(segment_id=segment_id)
    if found is None:
        raise not_found("Segment")
    pr = selectors.segment_prs(athlete_id=token.athlete_id, segment_ids=[found.pk]).get(found.pk)
    return JsonResponse(serializers.segment_detailed(found, pr=pr, with_stats="read_all" in token.scopes))


def _subscription_json(subscription: SimPushSubscription) -> dict[str, object]:
    application_id = subscription.client_id
    return {
        "id": subscription.pk,
        "resource_state": 2,
        "application_id": int(application_id) if application_id.isdigit() else application_id,
        "callback_url": subscription.callback_url,
        "created_at": serializers.iso(subscription.created_at),
        "updated_at": serializers.iso(subscription.updated_at),
    }


@api_view(metered=False, bearer=False)
def push_subscriptions(request: HttpRequest, token: None) -> HttpResponse:
    """Application credentials, not an athlete's token; neither counted nor faulted."""
    _methods(request, "GET", "POST")
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    services.client_check(client_id=client_id, client_secret=params.get("client_secret", ""))
    if request.method == "GET":
        found = selectors.push_subscription_get(client_id=client_id)
        return JsonResponse([_subscription_json(found)] if found else [], safe=False)
    created = services.push_subscription_create(
        client_id=client_id, callback_url=params.get("callback_url", ""), verify_token=params.get("verify_token", "")
    )
    return JsonResponse({"id": created.pk}, status=201)


@api_view(metered=False, bearer=False)
def push_subscription(request: HttpRequest, token: None, subscription_id: int) -> HttpResponse:
    _methods(request, "DELETE")
    params = request.GET.copy()
    params.update(QueryDict(request.body))
    services.client_check(client_id=params.get("client_id", ""), client_secret=params.get("client_secret", ""))
    services.push_subscription_delete(client_id=params.get("client_id", ""), subscription_id=subscription_id)
    return HttpResponse(status=204)


@api_view()
def unknown(request: HttpRequest, token: SimToken, rest: str) -> HttpResponse:
    raise not_found("resource", "path")
