"""Each way a request to /slack/events can be refused, with its own status code, and the
kinds of payload accepted on the one URL."""

import json
import time

import pytest

from apps.conversations.models import Message
from tests.doubles.slack_requests import (
    app_mention_event,
    block_actions_form,
    button_action,
    event_callback,
    signed_headers,
    url_verification,
)

SECRET = "unit-signing-secret"


@pytest.fixture(autouse=True)
def _signing_secret(settings):
    settings.SLACK_SIGNING_SECRET = SECRET


def post(client, body: str, content_type="application/json", **headers):
    return client.post("/slack/events", data=body, content_type=content_type, **headers)


def test_url_verification_is_answered_with_the_challenge(client, db):
    body = json.dumps(url_verification("abc123"))
    response = post(client, body, **signed_headers(body, SECRET))
    assert response.status_code == 200
    assert response.json() == {"challenge": "abc123"}


def test_missing_signature_headers_are_401(client, db):
    response = post(client, json.dumps(url_verification()))
    assert response.status_code == 401


def test_a_wrong_signature_is_401(client, db):
    body = json.dumps(url_verification())
    headers = signed_headers(body, "another-secret")
    response = post(client, body, **headers)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid Slack signature"}


def test_a_body_changed_after_signing_is_401(client, db):
    body = json.dumps(url_verification("original"))
    headers = signed_headers(body, SECRET)
    response = post(client, body.replace("original", "tampered"), **headers)
    assert response.status_code == 401


def test_a_timestamp_older_than_five_minutes_is_403(client, db):
    body = json.dumps(url_verification())
    response = post(client, body, **signed_headers(body, SECRET, int(time.time()) - 301))
    assert response.status_code == 403


def test_a_timestamp_from_the_future_is_403(client, db):
    body = json.dumps(url_verification())
    response = post(client, body, **signed_headers(body, SECRET, int(time.time()) + 600))
    assert response.status_code == 403


def test_a_malformed_json_body_is_400_after_verification(client, db):
    body = "{not json"
    response = post(client, body, **signed_headers(body, SECRET))
    assert response.status_code == 400


def test_without_a_configured_signing_secret_requests_are_503(client, db, settings):
    settings.SLACK_SIGNING_SECRET = ""
    body = json.dumps(url_verification())
    response = post(client, body, **signed_headers(body, SECRET))
    assert response.status_code == 503


def test_get_is_not_allowed(client, db):
    assert client.get("/slack/events").status_code == 405


def test_an_event_for_an_unknown_team_is_acked_stores_nothing_and_warns(client, tenant_a, caplog):
    body = json.dumps(event_callback("T0UNKNOWN", app_mention_event()))

    response = post(client, body, **signed_headers(body, SECRET))

    assert response.status_code == 200
    assert "unknown team T0UNKNOWN" in caplog.text
    from django_tenants.utils import schema_context

    with schema_context(tenant_a.schema_name):
        assert not Message.objects.exists()


def test_interactivity_payloads_are_accepted(client, tenant_a):
    from tests.factories import SlackWorkspaceFactory

    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    body = block_actions_form(workspace.team_id, [button_action("feedback_up", "up")])

    response = post(
        client, body, "application/x-www-form-urlencoded", **signed_headers(body, SECRET)
    )

    assert response.status_code == 200
