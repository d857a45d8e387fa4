"""Segment pages: an athlete sees their own segments and efforts, nobody else's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from segments import services
from segments.models import Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice, bob, make_activity):
    """Alice rode 11 three times (PR on the last), 12 once; Bob rode 11 and 13."""
    for day, (elapsed, pr) in enumerate([(300, False), (290, False), (280, True)], start=1):
        services.efforts_store(activity=make_activity(
            alice, efforts=[(11, elapsed)] + ([(12, 95)] if day == 1 else []),
            start=datetime(2025, 5, day, 8, tzinfo=UTC), pr_on={11} if pr else None,
        ))
    services.efforts_store(activity=make_activity(bob, efforts=[(11, 250), (13, 60)], start=datetime(2025, 6, 1, tzinfo=UTC)))
    return {s.strava_id: s for s in Segment.objects.all()}


def test_the_segments_page_lists_mine_most_ridden_first_with_my_best_and_prs(client, alice, history):
    client.force_login(alice.user)

    page = client.get("/segments/").content.decode()

    rows = re.findall(r'<a href="/segments/(\d+)/">([^<]+)</a>', page.split('id="segments"')[1])
    assert [name for _, name in rows] == ["Segment 11", "Segment 12"]
    assert "Segment 13" not in page
    assert "4:40" in page  # Alice's best on 11 (280 s), not Bob's 250 s
    assert "4:10" not in page
    assert 'id="recent-prs"' in page


def test_a_segment_page_charts_my_efforts_over_time_inline(client, alice, history):
    client.force_login(alice.user)

    page = client.get(f"/segments/{history[11].pk}/").content.decode()

    svg = page.split('<svg class="efforts"')[1].split("</svg>")[0]
    assert svg.count("<circle") == 3
    assert "2025-05-03: 4:40" in svg
    assert 'id="best-time">4:40<' in page
    assert "http" not in svg.replace("http://www.w3.org", "")  # nothing fetched from elsewhere
    assert "<script" not in page.split('id="your-efforts"')[1]
    assert f'action="/segments/{history[11].pk}/refresh/"' in page
    assert "not fetched yet" in page


def test_details_appear_once_fetched(client, alice, history):
    Segment.objects.filter(pk=history[11].pk).update(effort_count=4321, athlete_count=99, star_count=7,
                                                     details={"id": 11}, details_fetched_at=datetime(2025, 7, 1, tzinfo=UTC))
    client.force_login(alice.user)

    page = client.get(f"/segments/{history[11].pk}/").content.decode()

    assert "4321 efforts by 99 athletes, 7 stars" in page


def test_a_segment_i_never_rode_is_404_even_if_someone_else_did(client, alice, history):
    client.force_login(alice.user)

    assert client.get(f"/segments/{history[13].pk}/").status_code == 404
    assert client.post(f"/segments/{history[13].pk}/refresh/").status_code == 404
    assert client.get("/segments/999999/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, history):
    for method, url in [("get", "/segments/"), ("get", f"/segments/{history[11].pk}/"),
                        ("post", f"/segments/{history[11].pk}/refresh/")]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/?next="), (method, url)


def test_the_admin_lists_segments_and_efforts(admin_client, history):
    assert admin_client.get("/admin/segments/segment/").status_code == 200
    assert admin_client.get("/admin/segments/segmenteffort/").status_code == 200
    assert admin_client.get(f"/admin/segments/segment/{history[11].pk}/change/").status_code == 200


def test_a_fetched_segment_is_drawn_from_its_own_map_and_its_climb_named_as_strava_does(client, alice, history):
    from warehouse.routes import polyline_encode

    line = polyline_encode([(51.5, -0.1), (51.505, -0.095), (51.51, -0.09)])
    Segment.objects.filter(pk=history[11].pk).update(details={"id": 11, "map": {"polyline": line}}, climb_category=5,
                                                     details_fetched_at=datetime(2025, 7, 1, tzinfo=UTC))
    client.force_login(alice.user)

    page = client.get(f"/segments/{history[11].pk}/").content.decode()

    assert 'id="segment-map"' in page
    assert '<dd id="climb-category">HC</dd>' in page
