"""Slack's Request URL is served ahead of the browser-facing middleware; every other URL,
the Slack install pages included, still goes through all of it."""

import json

from tests.doubles.slack_requests import signed_headers, url_verification

SECRET = "middleware-signing-secret"


def test_slack_events_skip_the_browser_middleware_and_still_answer(client, db, settings):
    settings.SLACK_SIGNING_SECRET = SECRET
    body = json.dumps(url_verification("chal-1"))

    response = client.post(
        "/slack/events", data=body, content_type="application/json", **signed_headers(body, SECRET)
    )

    assert response.status_code == 200
    assert response.json() == {"challenge": "chal-1"}
    # What the locale, clickjacking, security and session middleware add to every response.
    for header in ("Vary", "X-Frame-Options", "X-Content-Type-Options", "Set-Cookie"):
        assert header not in response.headers


def test_slack_events_still_refuse_other_methods(client, db):
    assert client.get("/slack/events").status_code == 405


def test_the_slack_install_page_still_goes_through_the_browser_middleware(client, db):
    response = client.get("/slack/install")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Accept-Language" in response.headers["Vary"]
