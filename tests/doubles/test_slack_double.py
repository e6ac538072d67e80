"""The Slack double answers the real slack_sdk clients as Slack does, and the request helpers
sign like Slack (checked with slack_sdk's own verifier)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.doubles.slack import SlackDouble
from tests.doubles.slack_requests import (
    app_mention_event,
    block_actions_form,
    button_action,
    event_callback,
    message_event,
    signed_headers,
    signed_http_headers,
    slash_command_form,
    url_verification,
)

BOT_TOKEN = "xoxb-1000-2000-doubletoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def double():
    with SlackDouble() as running:
        running.add_token(BOT_TOKEN, team_id="T0ACME0001", bot_user_id="U0NOXBOT01")
        yield running


@pytest.fixture
def client(double: SlackDouble) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=double.api_url)


def test_auth_test_names_the_team_and_bot_of_the_token(client):
    reply = client.auth_test()
    assert reply["team_id"] == "T0ACME0001"
    assert reply["user_id"] == "U0NOXBOT01"


def test_an_update_after_a_post_is_what_the_thread_shows(client, double):
    root_ts = double.add_message("C0ACME0001", "<@U0NOXBOT01> is prod down?")
    posted = client.chat_postMessage(channel="C0ACME0001", thread_ts=root_ts, text="Looking…")
    client.chat_update(channel="C0ACME0001", ts=posted["ts"], text="Prod is up.")

    thread = double.thread("C0ACME0001", root_ts)
    assert [message["text"] for message in thread] == ["<@U0NOXBOT01> is prod down?", "Prod is up."]
    assert thread[1]["user"] == "U0NOXBOT01"
    assert posted["channel"] == "C0ACME0001"
    assert posted["message"]["text"] == "Looking…"


def test_post_message_timestamps_are_unique_and_increasing(client):
    stamps = [client.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(3)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 3


def test_calls_record_the_parameters_and_the_token(client, double):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    client.chat_postEphemeral(channel="C1", user="U0HUMAN001", text="only you")

    (call,) = double.calls("chat.postMessage")
    assert call["token"] == BOT_TOKEN
    assert call["channel"] == "C1"
    assert call["blocks"] == blocks
    assert double.calls("chat.postEphemeral")[0]["user"] == "U0HUMAN001"
    assert double.ephemerals("C1")[0]["text"] == "only you"


def test_an_unknown_token_is_refused_with_invalid_auth(double):
    client = WebClient(token="xoxb-1-2-unknown", base_url=double.api_url)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response["error"] == "invalid_auth"


def test_updating_a_missing_message_is_message_not_found(client):
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C1", ts="1700000000.999999", text="x")
    assert raised.value.response["error"] == "message_not_found"


def test_a_scripted_rate_limit_answers_429_with_retry_after_once(client, double):
    double.fail_next("chat.postMessage", "ratelimited", retry_after=3)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "3"
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True


def test_a_scripted_error_answers_200_with_ok_false(client, double):
    double.fail_next("chat.update", "msg_too_long")
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C1", ts="1", text="x")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "msg_too_long"


def test_oauth_v2_access_exchanges_a_code_for_a_bot_install(double):
    expected = double.add_oauth_code("code-1", team_id="T0NEWTEAM1", team_name="New Team")
    client = WebClient(base_url=double.api_url)

    reply = client.oauth_v2_access(
        client_id=double.client_id, client_secret=double.client_secret, code="code-1"
    )

    assert reply["token_type"] == "bot"
    assert reply["access_token"] == expected["access_token"]
    assert reply["access_token"].startswith("xoxb-")
    assert reply["team"] == {"id": "T0NEWTEAM1", "name": "New Team"}
    assert reply["bot_user_id"] and reply["app_id"] and reply["scope"]
    assert reply["authed_user"]["id"]
    # The installed token works for the rest of the API.
    installed = WebClient(token=reply["access_token"], base_url=double.api_url)
    assert installed.auth_test()["team_id"] == "T0NEWTEAM1"


def test_oauth_v2_access_accepts_client_credentials_in_the_form(double):
    double.add_oauth_code("code-1")
    reply = WebClient(base_url=double.api_url).api_call(
        "oauth.v2.access",
        data={
            "client_id": double.client_id,
            "client_secret": double.client_secret,
            "code": "code-1",
        },
    )
    assert reply["ok"] is True


def test_oauth_v2_access_refuses_an_unknown_or_replayed_code(double):
    double.add_oauth_code("code-1")
    client = WebClient(base_url=double.api_url)
    credentials = {"client_id": double.client_id, "client_secret": double.client_secret}
    client.oauth_v2_access(**credentials, code="code-1")

    for code in ("code-1", "never-issued"):
        with pytest.raises(SlackApiError) as raised:
            client.oauth_v2_access(**credentials, code=code)
        assert raised.value.response["error"] == "invalid_code"


@pytest.mark.parametrize(
    ("client_id", "client_secret", "error"),
    [("9.9", None, "invalid_client_id"), (None, "wrong", "bad_client_secret")],
)
def test_oauth_v2_access_refuses_a_bad_client(double, client_id, client_secret, error):
    double.add_oauth_code("code-1")
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=double.api_url).oauth_v2_access(
            client_id=client_id or double.client_id,
            client_secret=client_secret or double.client_secret,
            code="code-1",
        )
    assert raised.value.response["error"] == error


def test_response_url_posts_are_recorded(double):
    reply = WebhookClient(double.response_url("cmd-1")).send(
        text="Deploying…", response_type="ephemeral"
    )
    assert reply.status_code == 200 and reply.body == "ok"
    assert double.response_url_posts("cmd-1") == [
        {"text": "Deploying…", "response_type": "ephemeral"}
    ]


def test_reset_forgets_tokens_and_messages(client, double):
    client.chat_postMessage(channel="C1", text="hi")
    double.reset()
    assert double.messages() == [] and double.calls() == []
    with pytest.raises(SlackApiError):
        client.auth_test()


def test_signature_verifier_accepts_signed_headers():
    body = json.dumps(event_callback("T0ACME0001", app_mention_event()))
    verifier = SignatureVerifier(SIGNING_SECRET)
    assert verifier.is_valid_request(body, signed_http_headers(body, SIGNING_SECRET))
    django_style = signed_headers(body, SIGNING_SECRET)
    assert verifier.is_valid(
        body, django_style["HTTP_X_SLACK_REQUEST_TIMESTAMP"], django_style["HTTP_X_SLACK_SIGNATURE"]
    )


def test_signature_verifier_rejects_a_tampered_body_or_an_old_timestamp():
    body = slash_command_form("T0ACME0001", "/nox-status", "prod")
    verifier = SignatureVerifier(SIGNING_SECRET)
    headers = signed_http_headers(body, SIGNING_SECRET)
    assert not verifier.is_valid_request(body.replace("prod", "staging"), headers)
    old = signed_http_headers(body, SIGNING_SECRET, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, old)


def test_event_payloads_have_the_documented_shape():
    envelope = event_callback(
        "T0ACME0001", message_event("hi", channel_type="im", thread_ts="1.2"), event_id="Ev1"
    )
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert envelope["authorizations"][0]["team_id"] == "T0ACME0001"
    assert envelope["event"]["channel_type"] == "im"
    assert envelope["event"]["thread_ts"] == "1.2"
    assert url_verification("c")["challenge"] == "c"


def test_interaction_and_command_forms_are_urlencoded_like_slack():
    command = parse_qs(slash_command_form("T0ACME0001", "/nox-help", "", trigger_id="t1"))
    assert command["command"] == ["/nox-help"] and command["trigger_id"] == ["t1"]
    form = parse_qs(block_actions_form("T0ACME0001", [button_action("approve", "42")]))
    payload = json.loads(form["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["value"] == "42"
    assert payload["team"]["id"] == "T0ACME0001"


def test_the_fixture_points_the_slack_api_url_setting_at_the_double(slack_double, settings):
    slack_double.add_token(BOT_TOKEN)
    assert slack_double.api_url == settings.SLACK_API_URL
    assert WebClient(token=BOT_TOKEN, base_url=settings.SLACK_API_URL).auth_test()["ok"]


def test_http_level_faults_of_the_base_double_still_work(client, double):
    double.fail_next(1, status=503)
    with pytest.raises(SlackApiError) as raised:
        client.auth_test()
    assert raised.value.response.status_code == 503
    assert client.auth_test()["ok"] is True
