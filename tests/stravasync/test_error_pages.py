"""Error pages are our pages: styled, with the favicon, and the 500 needs nothing of the request."""

from __future__ import annotations

from django.test import RequestFactory
from django.views.defaults import server_error


def test_the_500_page_renders_styled_without_any_request_context():
    response = server_error(RequestFactory().get("/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "/static/css/app.css" in html and "/static/favicon.svg" in html
