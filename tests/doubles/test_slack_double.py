"""The Slack double answers the real slack_sdk clients as Slack does, and the request helpers
sign like Slack (checked with slack_sdk's own verifier)."""

from __future__ import annotations

import json
import time
from urllib.error import HTTPError
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import SlackResponse
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


# --- streamed replies ----------------------------------------------------------------------

CHANNEL = "C0ACME0001"
DM = "D0ACME0001"
RECIPIENT = {"recipient_team_id": "T0ACME0001", "recipient_user_id": "U0HUMAN001"}


def test_a_stream_started_appended_and_stopped_is_one_reply_with_the_whole_text(client, double):
    root_ts = double.add_message(CHANNEL, "<@U0NOXBOT01> summarise the incident")

    started = client.chat_startStream(
        channel=CHANNEL, thread_ts=root_ts, markdown_text="The ", **RECIPIENT
    )
    client.chat_appendStream(channel=CHANNEL, ts=started["ts"], markdown_text="database ")
    assert double.stream(CHANNEL, started["ts"])["streaming"] is True
    stopped = client.chat_stopStream(
        channel=CHANNEL, ts=started["ts"], chunks=[{"type": "markdown_text", "text": "failed."}]
    )

    assert started["channel"] == CHANNEL and started["ts"]
    reply = double.thread(CHANNEL, root_ts)[1]
    assert reply["text"] == "The database failed."
    assert reply["thread_ts"] == root_ts and reply["user"] == "U0NOXBOT01"
    assert stopped["message"]["text"] == "The database failed."
    state = double.stream(CHANNEL, started["ts"])
    assert state["streaming"] is False
    assert state["recipient_user_id"] == "U0HUMAN001"
    assert [chunk["text"] for chunk in state["chunks"]] == ["The ", "database ", "failed."]


def test_the_chat_stream_helper_streams_end_to_end_with_blocks_below(client, double):
    root_ts = double.add_message(DM, "why is prod slow?")
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "took 3 s"}]}]

    streamer = client.chat_stream(channel=DM, thread_ts=root_ts, buffer_size=8)
    for piece in ("Prod is ", "slow because ", "the cache ", "is cold."):
        streamer.append(markdown_text=piece)
    streamer.stop(blocks=blocks)

    assert len(double.calls("chat.startStream")) == 1
    assert len(double.calls("chat.appendStream")) == 3
    (stop,) = double.calls("chat.stopStream")
    assert stop["blocks"] == blocks
    reply = double.thread(DM, root_ts)[1]
    assert reply["text"] == "Prod is slow because the cache is cold."
    assert reply["blocks"] == blocks
    assert double.stream(DM, streamer.ts)["streaming"] is False


def test_a_stream_that_is_only_stopped_is_started_then_stopped_by_the_helper(client, double):
    root_ts = double.add_message(DM, "hi")
    streamer = client.chat_stream(channel=DM, thread_ts=root_ts, buffer_size=256)
    streamer.append(markdown_text="short answer")
    streamer.stop()
    assert double.thread(DM, root_ts)[1]["text"] == "short answer"
    assert [call["_method"] for call in double.calls()] == ["chat.startStream", "chat.stopStream"]


def _refused(call, **kwargs) -> SlackResponse:
    """Call ``call``; it must fail with ``SlackApiError``; Slack's reply."""
    with pytest.raises(SlackApiError) as raised:
        call(**kwargs)
    return raised.value.response


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "", "thread_ts": "1.2", **RECIPIENT}, "channel_not_found"),
        ({"channel": CHANNEL, "thread_ts": "", **RECIPIENT}, "invalid_arguments"),
        (
            {"channel": CHANNEL, "thread_ts": "1.2", "recipient_user_id": "U0HUMAN001"},
            "missing_recipient_team_id",
        ),
        (
            {"channel": CHANNEL, "thread_ts": "1.2", "recipient_team_id": "T0ACME0001"},
            "missing_recipient_user_id",
        ),
    ],
)
def test_start_stream_refuses_what_slack_refuses(client, kwargs, error):
    assert _refused(client.chat_startStream, **kwargs)["error"] == error


def test_start_stream_without_a_thread_names_the_missing_field(client):
    response = _refused(client.chat_startStream, channel=DM, thread_ts="")
    assert response["response_metadata"]["messages"] == [
        "[ERROR] missing required field: thread_ts"
    ]


def test_a_dm_stream_needs_no_recipient(client, double):
    started = client.chat_startStream(channel=DM, thread_ts="1.2")
    assert double.messages(DM)[0]["ts"] == started["ts"]


def test_append_and_stop_refuse_an_unknown_a_foreign_or_a_finished_stream(client, double):
    human_ts = double.add_message(DM, "not the bot's")
    posted_ts = client.chat_postMessage(channel=DM, text="not streamed")["ts"]
    stopped_ts = client.chat_startStream(channel=DM, thread_ts=human_ts)["ts"]
    client.chat_stopStream(channel=DM, ts=stopped_ts)
    ended_ts = client.chat_startStream(channel=DM, thread_ts=human_ts)["ts"]
    double.end_stream(DM, ended_ts)

    for call in (client.chat_appendStream, client.chat_stopStream):
        errors = [
            _refused(call, channel=DM, ts=ts, markdown_text="x")["error"]
            for ts in ("1700000000.999999", human_ts, posted_ts, stopped_ts, ended_ts)
        ]
        assert errors == [
            "message_not_found",
            "cant_update_message",
            "message_not_in_streaming_state",
            "message_not_in_streaming_state",
            "message_not_in_streaming_state",
        ]


def test_an_append_with_no_text_is_no_text(client):
    ts = client.chat_startStream(channel=DM, thread_ts="1.2")["ts"]
    assert _refused(client.chat_appendStream, channel=DM, ts=ts)["error"] == "no_text"


def test_a_workspace_without_streaming_refuses_the_three_methods(client, double):
    ts = client.chat_startStream(channel=DM, thread_ts="1.2")["ts"]
    double.streaming_supported = False

    assert _refused(client.chat_startStream, channel=DM, thread_ts="1.2")["error"] == (
        "not_allowed_token_type"
    )
    for call in (client.chat_appendStream, client.chat_stopStream):
        assert _refused(call, channel=DM, ts=ts, markdown_text="x")["error"] == (
            "not_allowed_token_type"
        )
    # Posting still works: the fallback an app takes.
    assert client.chat_postMessage(channel=DM, thread_ts="1.2", text="whole answer")["ok"]


def test_a_token_added_without_streaming_is_refused_while_others_stream(double):
    double.add_token("xoxb-9-9-nostream", streaming=False)
    refused = WebClient(token="xoxb-9-9-nostream", base_url=double.api_url)
    assert _refused(refused.chat_startStream, channel=DM, thread_ts="1.2")["error"] == (
        "not_allowed_token_type"
    )
    allowed = WebClient(token=BOT_TOKEN, base_url=double.api_url)
    assert allowed.chat_startStream(channel=DM, thread_ts="1.2")["ok"] is True


def test_a_scripted_429_on_append_is_retried_by_the_rate_limit_handler(double):
    client = WebClient(token=BOT_TOKEN, base_url=double.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    ts = client.chat_startStream(channel=DM, thread_ts="1.2")["ts"]
    double.fail_next("chat.appendStream", "ratelimited", retry_after=2)

    started = time.monotonic()
    assert client.chat_appendStream(channel=DM, ts=ts, markdown_text="after")["ok"] is True

    assert time.monotonic() - started >= 2
    assert len(double.calls("chat.appendStream")) == 2
    assert double.messages(DM)[0]["text"] == "after"


def test_a_scripted_429_on_a_new_method_carries_retry_after(client, double):
    double.fail_next("chat.appendStream", "ratelimited", retry_after=2)
    response = _refused(client.chat_appendStream, channel=DM, ts="1", markdown_text="x")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"


# --- assistant.threads.setStatus, users.info, files -----------------------------------------


def test_set_status_in_a_dm_records_each_status_in_order_and_clears(client, double):
    client.assistant_threads_setStatus(channel_id=DM, thread_ts="1.2", status="is thinking…")
    client.assistant_threads_setStatus(
        channel_id=DM, thread_ts="1.2", status="is searching…", loading_messages=["Reading…"]
    )
    client.assistant_threads_setStatus(channel_id=DM, thread_ts="1.2", status="")

    assert double.statuses(DM, "1.2") == ["is thinking…", "is searching…", ""]
    assert double.statuses(DM, "9.9") == []
    assert double.calls("assistant.threads.setStatus")[1]["loading_messages"] == ["Reading…"]


def test_set_status_outside_a_dm_is_refused_unless_channels_are_allowed(client, double):
    response = _refused(
        client.assistant_threads_setStatus, channel_id=CHANNEL, thread_ts="1.2", status="x"
    )
    assert response["error"] == "channel_type_not_supported"
    assert double.statuses(CHANNEL, "1.2") == []

    double.status_in_channels = True
    client.assistant_threads_setStatus(channel_id=CHANNEL, thread_ts="1.2", status="x")
    assert double.statuses(CHANNEL, "1.2") == ["x"]


def test_users_info_answers_a_known_user_and_refuses_an_unknown_one(client, double):
    double.add_user(
        "U0HUMAN001", email="ada@acme.test", tz="America/New_York", real_name="Ada Lovelace"
    )

    user = client.users_info(user="U0HUMAN001")["user"]

    assert user["id"] == "U0HUMAN001"
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)  # EST or EDT
    assert user["profile"]["email"] == "ada@acme.test"
    assert user["profile"]["real_name"] == "Ada Lovelace"
    assert user["profile"]["display_name"] == "Ada Lovelace"
    assert _refused(client.users_info, user="U0NOBODY01")["error"] == "user_not_found"


def test_files_upload_v2_uploads_and_shares_into_the_thread(client, double):
    root_ts = double.add_message(CHANNEL, "send me the log")

    reply = client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=root_ts,
        content="line 1\nline 2\n",
        filename="incident.log",
        title="Incident log",
        initial_comment="Here it is.",
    )

    (shared,) = double.files(CHANNEL)
    assert shared["content"] == b"line 1\nline 2\n"
    assert shared["filename"] == "incident.log" and shared["title"] == "Incident log"
    assert shared["thread_ts"] == root_ts and shared["initial_comment"] == "Here it is."
    assert reply["file"]["id"] == shared["id"]
    (get_url,) = double.calls("files.getUploadURLExternal")
    assert get_url["filename"] == "incident.log" and get_url["length"] == "14"
    share = double.thread(CHANNEL, root_ts)[1]
    assert share["text"] == "Here it is." and share["files"][0]["id"] == shared["id"]
    assert double.files("C0OTHER001") == []


def test_complete_upload_refuses_a_file_whose_bytes_never_arrived(client, double):
    file_id = client.files_getUploadURLExternal(filename="a.txt", length=3)["file_id"]
    response = _refused(client.files_completeUploadExternal, files=[{"id": file_id, "title": "a"}])
    assert response["error"] == "file_not_found"
    assert double.files() == []


def test_get_upload_url_refuses_an_empty_file(client):
    response = _refused(client.files_getUploadURLExternal, filename="a.txt", length=0)
    assert response["error"] == "missing_argument"


def test_a_scripted_upload_failure_fails_files_upload_v2(client, double):
    double.fail_next("upload_url", "storage unavailable", status=500)
    with pytest.raises(HTTPError) as raised:
        client.files_upload_v2(channel=CHANNEL, content="x", filename="a.txt")
    assert raised.value.code == 500
    assert double.calls("files.completeUploadExternal") == []
