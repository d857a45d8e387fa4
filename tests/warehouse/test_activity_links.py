"""Where "activity N" links lead: Strava's page with real Strava, our own page in sandbox mode."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from tests.warehouse.conftest import summary_json
from warehouse.selectors import activity_hrefs

pytestmark = pytest.mark.django_db


def test_with_real_strava_every_activity_links_to_strava(settings, alice):
    settings.SANDBOX_MODE = False
    settings.STRAVA_WEB_URL = "https://www.strava.com"

    assert activity_hrefs(athlete_id=alice.pk, strava_ids=[42]) == {42: "https://www.strava.com/activities/42"}


def test_in_sandbox_mode_only_activities_we_have_link_and_to_our_own_page(settings, alice, bob, store):
    settings.SANDBOX_MODE = True
    [mine] = store(summary_json(activity_id=777))

    assert activity_hrefs(athlete_id=alice.pk, strava_ids=[777, 778]) == {777: "/activities/777/"}
    assert activity_hrefs(athlete_id=bob.pk, strava_ids=[777]) == {}  # never another athlete's page


def test_the_template_tag_renders_a_link_or_the_words_alone(settings, alice, store):
    settings.SANDBOX_MODE = True
    store(summary_json(activity_id=777))
    request = RequestFactory().get("/")
    request.user = alice.user
    template = Template("{% load warehouse_format %}{% activity_link 777 %} | {% activity_link 778 %}")

    html = template.render(Context({"request": request}))

    assert html == '<a href="/activities/777/">activity 777</a> | activity 778'
