from __future__ import annotations

import threading

import pytest
from django.db import connection


def connect(page, base_url: str, *, firstname: str, untick: tuple[str, ...] = ()) -> None:
    """Home → Connect with Strava → the simulator's consent page → our dashboard."""
    page.goto(base_url + "/")
    page.click("#connect-strava")
    page.wait_for_selector("#authorize")
    page.select_option("#athlete", "new")
    page.fill("#firstname", firstname)
    page.fill("#lastname", "Browser")
    for scope in untick:
        page.uncheck(f"input[name=scope][value='{scope}']")
    page.click("#authorize")
    page.wait_for_selector("#athlete-name")


@pytest.fixture
def dispatcher():
    """What `manage.py run_dispatcher` does in production, in a thread beside the live server."""
    from stravasync.strava.dispatch import dispatch_tick

    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.is_set():
                dispatch_tick()
                stop.wait(0.3)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
