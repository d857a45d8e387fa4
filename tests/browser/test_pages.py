"""Every page at a desktop width and a phone width: nothing is wider than the window.

A page wider than the window makes a phone scroll sideways and hides columns off-screen on a
desktop (the batch table's reasons, the admin's Reason column).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.pages_data import BEST_ON_700, seed_everything, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 375)


def overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def widest_elements(page) -> list[str]:
    """What sticks out, for the failure message."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 8).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)""")


def too_wide(page, base_url: str, paths: list[str]) -> list[str]:
    """The pages among `paths` that are wider than the window, each with what sticks out."""
    found = []
    for path in paths:
        response = page.goto(base_url + path)
        assert response is not None and response.ok, path
        scroll_width, inner_width = overflow(page)
        if scroll_width > inner_width:
            found.append(f"{path} is {scroll_width} px wide at {inner_width} px: {widest_elements(page)}")
    return found


def user_pages(seeded) -> list[str]:
    pages = [
        reverse("dashboard"), reverse("uploads:new"), reverse("uploads:history"), reverse("warehouse:list"),
        reverse("warehouse:stats"), reverse("warehouse:import"), reverse("segments:list"), reverse("garmin:page"),
    ]
    if seeded is not None:
        pages += [
            reverse("uploads:batch", args=[seeded.batch_pk]),
            reverse("warehouse:activity", args=[seeded.activity_id]),
            reverse("segments:detail", args=[seeded.segment_pk]),
        ]
    return pages


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_window_with_data(page, live_server, alice, width):
    seeded = seed_everything(alice)
    alice.user.is_staff = alice.user.is_superuser = True
    alice.user.save()
    page.set_viewport_size({"width": width, "height": 900})
    problems = too_wide(page, live_server.url, [reverse("home")])
    sign_in(page, live_server.url, alice.user)
    paths = [*user_pages(seeded), reverse("ops:sync"), reverse("admin:uploads_upload_changelist"),
             reverse("admin:uploads_uploadbatch_changelist")]
    problems += too_wide(page, live_server.url, paths)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_window_for_a_new_athlete(page, live_server, alice, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, alice.user)
    problems = too_wide(page, live_server.url, user_pages(None))
    assert not problems, "\n".join(problems)


def test_the_admin_shows_the_reason_column_on_a_desktop(page, live_server, alice):
    seed_everything(alice)
    alice.user.is_staff = alice.user.is_superuser = True
    alice.user.save()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, alice.user)
    page.goto(live_server.url + reverse("admin:uploads_upload_changelist"))
    header = page.locator("#result_list thead th.column-reason_short")
    expect(header).to_be_visible()
    box = header.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280


def test_the_batch_page_lists_failed_files_first_says_reasons_in_words_and_explains_its_bar(page, live_server, alice):
    seeded = seed_everything(alice)
    sign_in(page, live_server.url, alice.user)
    page.goto(live_server.url + reverse("uploads:batch", args=[seeded.batch_pk]))

    legend = page.locator("#batch-legend li")
    expect(legend).to_have_count(5)  # drawn by the page's script from the status JSON
    assert legend.all_inner_texts() == ["1 done (on Strava)", "1 duplicate (already on Strava)",
                                        "1 junk (not an activity)", "1 failed (failed)",
                                        "1 queued (waiting for the quota)"]
    rows = page.locator("#batch-files tbody tr")
    assert rows.first.locator("td.state").inner_text() == "failed"
    broken = page.locator("#batch-files tbody tr", has_text="broken-")
    assert broken.locator("summary").inner_text() == "not a readable GPX/TCX file (the XML is cut off or broken)"
    expect(broken.locator("details code")).to_be_hidden()
    broken.locator("summary").click()
    expect(broken.locator("details code")).to_have_text("unreadable: unclosed token: line 1, column 76")
    sleep = page.locator("#batch-files tbody tr", has_text="sleep-")
    assert sleep.locator("summary").inner_text() == "not an activity: a sleep file"
    # Sandbox mode: the simulator's activity ids lead to our own activity page, never to strava.com.
    done = page.locator("#batch-files tbody tr", has_text="done-").locator("a")
    done.click()
    expect(page.locator("#activity-name")).to_be_visible()
    assert "strava.com" not in page.content()


def test_the_uploads_page_says_reasons_in_words_and_links_activities_here_in_sandbox_mode(page, live_server, alice):
    seed_everything(alice)
    sign_in(page, live_server.url, alice.user)
    page.goto(live_server.url + reverse("uploads:history"))

    sleep = page.locator("#uploads tbody tr", has_text="sleep-")
    assert sleep.locator("summary").inner_text() == "not an activity: a sleep file"
    hrefs = page.locator("#uploads a[href*='/activities/']").evaluate_all("links => links.map(a => a.href)")
    assert hrefs and all(h.startswith(live_server.url + "/activities/") for h in hrefs)


def test_the_segment_page_badges_the_best_effort_names_the_climb_links_efforts_and_draws_the_segment(
        page, live_server, alice):
    from segments.models import Segment

    seeded = seed_everything(alice)
    Segment.objects.filter(pk=seeded.segment_pk).update(climb_category=2)
    sign_in(page, live_server.url, alice.user)
    page.goto(live_server.url + reverse("segments:detail", args=[seeded.segment_pk]))

    assert page.inner_text("#best-time") == BEST_ON_700
    first = page.locator("#efforts tbody tr", has=page.locator(".badge.rank-1"))
    expect(first).to_have_count(1)  # Strava ranked three efforts #1 in their day; one is the best now
    assert first.locator("td.time").inner_text() == BEST_ON_700
    assert page.inner_text("#climb-category") == "Cat 3"
    expect(page.locator("#segment-map svg path")).to_have_count(1)  # cut from a ridden route: no call
    assert page.locator("#on-strava").count() == 0  # sandbox mode: the simulator's segment is not on strava.com
    first.locator("a").click()
    expect(page.locator("#activity-name")).to_be_visible()
    assert page.url.endswith(reverse("warehouse:activity", args=[seeded.activity_id]))


def test_the_activity_page_credits_the_garmin_device(page, live_server, alice):
    seeded = seed_everything(alice)
    sign_in(page, live_server.url, alice.user)
    page.goto(live_server.url + reverse("warehouse:activity", args=[seeded.activity_id]))

    expect(page.locator("#device")).to_have_text("Recorded on a Garmin Edge 530")
    assert page.locator("#on-strava").count() == 0


def test_the_year_over_year_labels_never_overlap_even_when_the_years_run_close(page, live_server, alice):
    seed_everything(alice)  # eight years with nearly the same totals: their lines end on top of each other
    sign_in(page, live_server.url, alice.user)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + reverse("warehouse:stats"))
        boxes = page.locator("#years-chart text.legend").evaluate_all(
            "labels => labels.map(t => { const b = t.getBoundingClientRect();"
            " return [t.textContent, b.left, b.top, b.right, b.bottom]; })")
        assert len(boxes) == 8
        for i, (name, left, top, right, bottom) in enumerate(boxes):
            for other, l2, t2, r2, b2 in boxes[i + 1:]:
                overlap = min(right, r2) - max(left, l2) > 0 and min(bottom, b2) - max(top, t2) > 0
                assert not overlap, f"{name} and {other} overlap at {width} px: {boxes}"
            assert right <= width  # inside the chart, not cut off


def test_a_new_athlete_sees_one_friendly_message_instead_of_empty_charts(page, live_server, alice):
    sign_in(page, live_server.url, alice.user)
    page.goto(live_server.url + reverse("warehouse:stats"))

    expect(page.locator("#no-stats")).to_contain_text("No activities yet")
    assert page.locator("svg.chart").count() == 0
    page.locator("#no-stats a", has_text="upload activity files").click()
    expect(page).to_have_url(live_server.url + reverse("uploads:new"))
