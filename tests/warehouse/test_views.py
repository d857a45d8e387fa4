"""Pages and exports: what an athlete sees, and that nobody sees another athlete's activities."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from .conftest import detail_json, summary_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


@pytest.fixture
def history(alice, store):
    """Alice: 30 activities over two years, the newest with details; Bob: one private ride."""
    from warehouse.models import Activity
    from warehouse.services import activity_store_detail

    base = datetime(2024, 1, 3, 7, 0, tzinfo=UTC)
    summaries = []
    for i in range(30):
        sport = ["Ride", "Run", "Swim"][i % 3]
        summaries.append(summary_json(start=base + timedelta(days=25 * i), sport_type=sport, type=sport,
                                      name=f"{sport} number {i}", distance=1000.0 * (i + 1), moving_time=600 * (i + 1)))
    activities = store(*summaries)
    newest = activities[0]
    activity_store_detail(activity=Activity.objects.get(pk=newest.pk), detail=detail_json(summaries[-1]))
    return activities


@pytest.fixture
def bobs_ride(bob, store):
    return store(summary_json(activity_id=777_000_111_222, name="Bob's secret ride", private=True,
                              athlete_strava_id=bob.strava_id), athlete=bob)[0]


PAGES = [
    ("warehouse:list", []), ("warehouse:stats", []), ("warehouse:export", ["csv"]), ("warehouse:export", ["json"]),
    ("warehouse:import", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_every_page_sends_anonymous_visitors_to_log_in(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and response["Location"].startswith(reverse("home"))


def test_an_activity_and_its_json_are_404_for_another_athlete_and_for_anonymous_a_login(client, alice_client, bobs_ride):
    for name in ("warehouse:activity", "warehouse:activity-json"):
        assert alice_client.get(reverse(name, args=[bobs_ride.strava_id])).status_code == 404
    client.logout()
    response = client.get(reverse("warehouse:activity", args=[bobs_ride.strava_id]))
    assert response.status_code == 302


def test_lists_stats_and_exports_never_show_another_athlete_s_activities(alice_client, history, bobs_ride):
    for name, args in PAGES[:4]:
        body = alice_client.get(reverse(name, args=args))
        content = b"".join(body.streaming_content) if body.streaming else body.content
        assert b"Bob's secret ride" not in content and str(bobs_ride.strava_id).encode() not in content


def test_a_user_without_an_athlete_gets_a_404_not_someone_else_s_data(client, django_user_model, history):
    user = django_user_model.objects.create_user(username="nobody")
    client.force_login(user)
    assert client.get(reverse("warehouse:list")).status_code == 404
    assert client.get(reverse("warehouse:export", args=["csv"])).status_code == 404


def test_the_list_pages_filters_and_sorts_on_the_server(alice_client, history):
    response = alice_client.get(reverse("warehouse:list"))
    assert response.status_code == 200
    assert response.context["total"] == 30 and len(response.context["activities"]) == 30
    assert response.context["activities"][0].name == "Swim number 29"  # newest first
    assert set(response.context["sports"]) == {"Ride", "Run", "Swim"}

    runs = alice_client.get(reverse("warehouse:list"), {"sport": "Run", "sort": "-distance"})
    names = [a.name for a in runs.context["activities"]]
    assert runs.context["total"] == 10 and names[0] == "Run number 28" and all(n.startswith("Run") for n in names)

    window = alice_client.get(reverse("warehouse:list"), {"after": "2024-03-01", "before": "2024-06-30"})
    assert all(datetime(2024, 3, 1).date() <= a.start_date_local.date() <= datetime(2024, 6, 30).date()
               for a in window.context["activities"]) and window.context["total"] == 5

    found = alice_client.get(reverse("warehouse:list"), {"q": "number 7"})
    assert [a.name for a in found.context["activities"]] == ["Run number 7"]
    assert b"sport=Run" in runs.content  # pagination and export links keep the filters


def test_the_list_paginates_on_the_server(alice_client, alice, store):
    base = datetime(2020, 1, 1, tzinfo=UTC)
    store(*[summary_json(start=base + timedelta(hours=i)) for i in range(120)])
    page3 = alice_client.get(reverse("warehouse:list"), {"page": 3})
    assert page3.context["page"] == 3 and page3.context["pages"] == 3 and len(page3.context["activities"]) == 20
    assert alice_client.get(reverse("warehouse:list"), {"page": 99}).context["page"] == 3
    assert alice_client.get(reverse("warehouse:list"), {"page": "x"}).context["page"] == 1


def test_the_activity_page_draws_the_route_and_shows_splits_and_efforts(alice_client, history):
    newest = history[0]
    response = alice_client.get(reverse("warehouse:activity", args=[newest.strava_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg id="route"' in html and '<path d="M' in html
    assert 'id="splits"' in html and html.count("<tr><td>") >= 3
    assert "Climb 0" in html and "Climb 1" in html and "PR 1" in html
    assert "Windy, coffee after." in html and "Garmin Edge 530" in html

    older = history[5]
    html = alice_client.get(reverse("warehouse:activity", args=[older.strava_id])).content.decode()
    assert 'id="awaiting-detail"' in html and '<svg id="route"' in html  # the summary polyline is enough for the map


def test_the_activity_json_is_the_raw_strava_json(alice_client, history):
    newest = history[0]
    data = json.loads(alice_client.get(reverse("warehouse:activity-json", args=[newest.strava_id])).content)
    assert data["summary"]["id"] == newest.strava_id and len(data["detail"]["segment_efforts"]) == 2


def test_the_csv_and_json_exports_hold_every_filtered_activity(alice_client, history):
    response = alice_client.get(reverse("warehouse:export", args=["csv"]), {"sport": "Ride"})
    assert response["Content-Type"] == "text/csv" and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 10 and {r["sport_type"] for r in rows} == {"Ride"}
    assert rows[0]["start_date"].endswith("Z") and float(rows[0]["distance"]) > 0

    response = alice_client.get(reverse("warehouse:export", args=["json"]))
    data = json.loads(b"".join(response.streaming_content))
    assert len(data) == 30 and data[0]["name"] == "Swim number 29" and data[0]["gear_name"] == "Canyon Endurace"
    assert alice_client.get(reverse("warehouse:export", args=["xml"])).status_code == 404


def test_the_stats_page_charts_weeks_months_and_years_per_sport(alice_client, history):
    response = alice_client.get(reverse("warehouse:stats"), {"year": "2024", "metric": "distance"})
    html = response.content.decode()
    assert response.status_code == 200 and response.context["years"] == [2025, 2024]  # 30 activities, 25 days apart
    assert 'id="weekly-chart"' in html and 'id="monthly-chart"' in html and 'id="years-chart"' in html
    assert "<rect" in html and "<polyline" in html
    monthly = response.context["monthly"]
    total_2024 = sum(row["total"]["count"] for row in monthly["table"])
    from warehouse.models import Activity

    assert total_2024 == Activity.objects.filter(start_day__year=2024).count()
    years = {row["year"]: row["total"] for row in response.context["compared"]["table"]}
    for year, totals in years.items():
        stored = Activity.objects.filter(start_day__year=year)
        assert totals["count"] == stored.count()
        assert totals["distance"] == pytest.approx(sum(a.distance for a in stored))
    for metric in ("moving_time", "elevation_gain", "count", "bogus"):
        assert alice_client.get(reverse("warehouse:stats"), {"metric": metric}).status_code == 200


def test_stats_and_list_work_for_an_athlete_with_nothing_yet(alice_client):
    assert "No activities yet" in alice_client.get(reverse("warehouse:stats")).content.decode()
    assert "your first pull is on its way" in alice_client.get(reverse("warehouse:list")).content.decode()


def test_pull_now_queues_the_pull_for_the_next_tick_when_strava_cannot_be_reached(alice_client, alice):
    from warehouse.models import SyncState

    response = alice_client.post(reverse("warehouse:sync"))
    assert response.status_code == 302
    state = SyncState.objects.get(athlete=alice)
    assert state.next_pull_at is not None
    assert alice_client.get(reverse("warehouse:sync")).status_code == 405


def test_an_export_uploaded_on_the_import_page_is_imported_and_the_archive_removed(
    alice_client, alice, export_zip, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from warehouse.models import Activity, SyncRun

    with open(export_zip(), "rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("warehouse:import"), {"archive": fh})
    assert response.status_code == 302
    assert Activity.objects.filter(athlete=alice).count() == 84  # tasks run inline in tests
    run = SyncRun.objects.get(kind="import", athlete=alice)
    assert run.trigger == "web" and run.created == 84
    assert default_storage.listdir(f"imports/{alice.pk}")[1] == []
    page = alice_client.get(reverse("warehouse:import")).content.decode()
    assert "4 manual activities complete without a call." in page


def test_the_nav_links_to_activities_and_stats(alice_client):
    html = alice_client.get(reverse("dashboard")).content.decode()
    assert reverse("warehouse:list") in html and reverse("warehouse:stats") in html


def test_the_list_counts_from_the_rollups_and_a_long_enrich_backlog_only_up_to_a_bound(alice_client, history,
                                                                                       monkeypatch):
    from warehouse import selectors

    monkeypatch.setattr(selectors, "BACKLOG_COUNTED_UP_TO", 10)
    response = alice_client.get(reverse("warehouse:list"), {"sport": "Swim"})
    status = response.context["status"]
    assert response.context["total"] == 10 and status["total"] == 30
    assert status["enrich_backlog"] == "more than 10" and status["enrich_eta"] is None
    assert b"more than 10 still await their details" in response.content

    monkeypatch.setattr(selectors, "BACKLOG_COUNTED_UP_TO", 29)
    status = alice_client.get(reverse("warehouse:list")).context["status"]
    assert status["enrich_backlog"] == 29 and status["enrich_eta"] is not None


def test_every_page_of_the_list_holds_the_same_rows_whichever_end_it_is_read_from(alice, history):
    from warehouse.selectors import ActivityFilters, activities_for, activity_list_page

    for sort in ("-start_date", "distance"):
        filters = ActivityFilters(sort=sort)
        everything = [a.pk for a in activities_for(athlete=alice, filters=filters)]
        pages = [activity_list_page(athlete=alice, filters=filters, page=n, per_page=7) for n in range(1, 6)]
        assert [a.pk for page in pages for a in page["activities"]] == everything
        assert [page["page"] for page in pages] == [1, 2, 3, 4, 5] and not pages[-1]["has_next"]
