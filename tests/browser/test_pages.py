"""Every page at a desktop width and a phone width: nothing is wider than the window.

A page wider than the window makes a phone scroll sideways and hides columns off-screen on a
desktop (the batch table's reasons, the admin's Reason column).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.pages_data import seed_everything, sign_in

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
