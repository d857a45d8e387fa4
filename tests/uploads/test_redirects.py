"""`next` after a POST: only back into this site, never to another host (no open redirect)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from stravasync.redirects import safe_next_url
from tests.uploads.conftest import BROKEN
from uploads.models import Upload

pytestmark = pytest.mark.django_db

OUTSIDE = ["https://evil.example/", "//evil.example/x", "http:evil.example", "javascript:alert(1)",
           "/\\evil.example", "\\\\evil.example", "https://testserver.evil.example/"]


@pytest.mark.parametrize("target", OUTSIDE)
def test_a_next_outside_the_site_falls_back_to_the_default(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next_url(request, "/home/") == "/home/"


def test_a_same_site_path_or_url_is_followed():
    factory = RequestFactory()
    assert safe_next_url(factory.post("/x/", {"next": "/uploads/?status=failed"}), "/") == "/uploads/?status=failed"
    assert safe_next_url(factory.post("/x/", {"next": "http://testserver/a/"}), "/") == "http://testserver/a/"


def test_on_https_a_plain_http_next_is_refused():
    request = RequestFactory().post("/x/", {"next": "http://testserver/a/"}, secure=True)
    assert safe_next_url(request, "/home/") == "/home/"


@pytest.fixture
def failed_upload(ingest):
    (upload,) = ingest(BROKEN / "empty.fit")
    Upload.objects.filter(pk=upload.pk).update(status="failed", reason="Strava refused it")
    return upload


def test_every_post_with_next_refuses_another_host(client, failed_upload):
    client.force_login(failed_upload.athlete.user)
    posts = [
        f"/uploads/files/{failed_upload.pk}/retry/",
        "/uploads/retry-failed/",
        f"/uploads/files/{failed_upload.pk}/delete/",
        "/activities/sync/",
    ]
    for url in posts:
        response = client.post(url, {"next": "https://evil.example/phish"})
        assert response.status_code == 302, url
        assert response["Location"].startswith("/") and "evil" not in response["Location"], (url, response["Location"])


def test_a_same_site_next_is_kept(client, failed_upload):
    client.force_login(failed_upload.athlete.user)
    response = client.post("/uploads/retry-failed/", {"next": "/uploads/?status=failed"})
    assert response["Location"] == "/uploads/?status=failed"
