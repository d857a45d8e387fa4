"""Take the README's screenshots from the running app (sandbox mode, Debian's chromium).

Usage: .venv/bin/python docs/screenshots.py  (starts bin/serve on a spare port, then stops it)
Every picture is taken at 1280 px (name.png) and on a 375 px phone (phone-name.png).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not come up")


# (file prefix, viewport, device scale): the README shows both; the phone is a 375 px wide screen.
VIEWPORTS = (("", {"width": 1280, "height": 800}, 1), ("phone-", {"width": 375, "height": 812}, 2))
PAGES = (("uploads", "/uploads/new/"), ("activities", "/activities/"), ("stats", "/activities/stats/"),
         ("segments", "/segments/"))


def wait_for_activities(page, base: str, timeout: float = 120) -> None:
    """The dispatcher pulls the demo athlete's history in the background: wait until the list shows some."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto(base + "/activities/")
        if page.locator("#activities a[href^='/activities/']").count():
            return
        time.sleep(1)
    raise SystemExit("no activity arrived: is the dispatcher running?")


def sign_in(page, base: str) -> None:
    page.goto(base + "/")
    page.click("#connect-strava")
    page.wait_for_selector("#authorize")
    first_seeded = page.locator("#athlete option").evaluate_all(
        "options => options.map(o => o.value).filter(v => /^[0-9]+$/.test(v)).sort()[0]")
    page.select_option("#athlete", first_seeded)


def shoot_one(browser, base: str, prefix: str, viewport: dict[str, int], scale: int) -> None:
    context = browser.new_context(viewport=viewport, device_scale_factor=scale, is_mobile=bool(prefix))
    page = context.new_page()
    page.goto(base + "/")
    page.screenshot(path=OUT / f"{prefix}home.png")
    sign_in(page, base)
    page.screenshot(path=OUT / f"{prefix}consent.png")
    page.click("#authorize")
    page.wait_for_selector("#athlete-name")
    page.screenshot(path=OUT / f"{prefix}dashboard.png", full_page=True)
    wait_for_activities(page, base)
    for name, path in PAGES:
        response = page.goto(base + path)
        if response is not None and response.ok:
            page.screenshot(path=OUT / f"{prefix}{name}.png", full_page=name != "activities")
    page.goto(base + "/activities/")
    page.locator("#activities a[href^='/activities/']").first.click()
    page.wait_for_selector("#activity-name")
    page.screenshot(path=OUT / f"{prefix}activity.png", full_page=True)
    page.goto(base + "/segments/")
    links = page.locator("#segments a[href^='/segments/']")
    if links.count():
        links.first.click()
        page.wait_for_selector("#segment-name")
        page.screenshot(path=OUT / f"{prefix}segment.png", full_page=True)
    context.close()


def shoot(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
        for prefix, viewport, scale in VIEWPORTS:
            shoot_one(browser, base, prefix, viewport, scale)
        browser.close()


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    work = ROOT / "var" / "screenshots"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "PY": sys.executable, "BIND": f"127.0.0.1:{port}", "SITE_URL": base,
           "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "MEDIA_ROOT": str(work / "media")}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "sandbox_seed", "--demo"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(["bash", "bin/serve"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(base + "/")
        shoot(base)
        print(f"screenshots in {OUT}")
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
