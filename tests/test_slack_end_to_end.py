"""The Slack path against `make run`: signed requests over HTTP to the running stack, answers
through the real Celery worker, the real slack_sdk and ollama clients talking to local doubles
of the Slack Web API and Ollama."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.doubles.ollama import OllamaDouble
from tests.doubles.slack import SlackDouble
from tests.doubles.slack_requests import (
    app_mention_event,
    event_callback,
    message_event,
    message_ts,
    signed_http_headers,
    slash_command_form,
)
from tests.factories import slack_token
from tests.stack_runner import stack_start

SECRET = "e2e-signing-secret"
TEAM_A, BOT_A = "T0E2EAAAA", "U0BOTAAAA"
TEAM_B, BOT_B = "T0E2EBBBB", "U0BOTBBBB"
ANSWER_WORDS = "Check the image tag and the registry credentials first."
ACK_LIMIT_S = 3.0


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    slack = SlackDouble().start()
    ollama = OllamaDouble(reply_text=ANSWER_WORDS).start()
    token_a, token_b = slack_token(), slack_token()
    slack.add_token(token_a, team_id=TEAM_A, bot_user_id=BOT_A)
    slack.add_token(token_b, team_id=TEAM_B, bot_user_id=BOT_B)
    stack = stack_start(
        tmp_path_factory.mktemp("e2e") / "data",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        OLLAMA_HOST=ollama.url,
        LLM_PROVIDER="ollama",
        SLACK_UPDATE_INTERVAL_S="0.2",
    )
    try:
        for schema, team, token, bot in (
            ("acme", TEAM_A, token_a, BOT_A),
            ("globex", TEAM_B, token_b, BOT_B),
        ):
            for args in (
                ("add_tenant", schema, "--name", schema.title()),
                ("connect_slack", schema, "--team-id", team, "--bot-token", token,
                 "--bot-user-id", bot),
            ):  # fmt: skip
                result = stack.manage(*args)
                assert result.returncode == 0, result.stderr
        # Globex tuned its NOX: its own persona and temperature must reach the model.
        tuned = stack.manage(
            "tenant_command", "shell", "--schema", "globex", "-c",
            "from apps.agents.models import Agent; "
            "Agent.objects.filter(slug='nox').update("
            "persona='You are NOX of Globex, terse.', temperature=0.9)",
        )  # fmt: skip
        assert tuned.returncode == 0, tuned.stderr
        stack.extra.update(slack=slack, ollama=ollama, token_a=token_a, token_b=token_b)
        yield stack
    finally:
        output = stack.stop()
        slack.stop()
        ollama.stop()
        print(output[-5000:])


def post_signed(stack, body: str, content_type: str, *, headers=None, timestamp=None):
    request_headers = {"Content-Type": content_type, **signed_http_headers(body, SECRET, timestamp)}
    request_headers.update(headers or {})
    request = urllib.request.Request(
        f"{stack.url}/slack/events", data=body.encode(), headers=request_headers, method="POST"
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.monotonic() - started


def post_event(stack, team_id: str, event: dict, *, event_id=None, headers=None, timestamp=None):
    body = json.dumps(event_callback(team_id, event, event_id=event_id))
    return post_signed(stack, body, "application/json", headers=headers, timestamp=timestamp)


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail("condition not met in time")


def final_answer(slack: SlackDouble, channel: str, thread_ts: str | None):
    """The agent's message in the thread once its final Block Kit (context footer) is in."""

    def answered():
        messages = slack.thread(channel, thread_ts) if thread_ts else slack.messages(channel)
        for message in messages:
            footers = [
                element.get("text", "")
                for block in message.get("blocks") or []
                if block.get("type") == "context"
                for element in block.get("elements") or []
            ]
            if message.get("bot_id") and any("NOX ·" in footer for footer in footers):
                return message
        return None

    return wait_for(answered)


def agent_posts(slack: SlackDouble, channel: str) -> int:
    """How many messages the agent started in ``channel``: placeholders posted with
    chat.postMessage, or answers streamed Slack-natively from chat.startStream (a start that
    Slack refused and that fell back to a post counts twice; the double here accepts both)."""
    return sum(
        1
        for method in ("chat.postMessage", "chat.startStream")
        for call in slack.calls(method)
        if call.get("channel") == channel
    )


def bot_messages(slack: SlackDouble, channel: str, thread_ts: str) -> list[dict]:
    """The agent's messages now in the thread (its answers, one per question answered)."""
    return [m for m in slack.thread(channel, thread_ts) if m.get("bot_id")]


FINAL_STATUSES = {"answered", "llm_unavailable", "failed"}

# Prints [schema, status] of every question stored for CHANNEL, in every tenant's schema.
QUESTIONS_STORED_CODE = """
import json
from django_tenants.utils import get_tenant_model, schema_context
from apps.conversations.models import Message
found = []
for schema in get_tenant_model().objects.exclude(schema_name="public").values_list(
    "schema_name", flat=True
):
    with schema_context(schema):
        found += [
            [schema, status]
            for status in Message.objects.filter(channel_id=CHANNEL, role="user")
            .order_by("id")
            .values_list("status", flat=True)
        ]
print(json.dumps(found))
"""


def questions_stored(stack, channel: str) -> list[str]:
    """``"schema/status"`` of each question stored for ``channel``, in any tenant, oldest
    first: what the web request wrote before its 200, so an event that should have been
    ignored shows up here even if its answer has not been posted yet."""
    code = QUESTIONS_STORED_CODE.replace("CHANNEL", repr(channel))
    result = stack.manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return ["/".join(row) for row in json.loads(result.stdout.strip().splitlines()[-1])]


def questions_settled(stack, channel: str) -> list[str]:
    """``questions_stored`` once every one of them is answered (or has failed for good).

    A question is stored before its event's 200, so one wrongly stored for an ignored event is
    in the list, and its answer has been posted by the time this returns, even if its task was
    published, or picked by the other worker process, after the sentinel's.
    """

    def settled():
        found = questions_stored(stack, channel)
        return found if all(q.split("/")[1] in FINAL_STATUSES for q in found) else None

    return wait_for(settled, timeout=60.0)


def answer_shown(message: dict) -> str:
    """Everything a person reads in an agent's message: streamed text and Block Kit."""
    return message.get("text", "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def test_mention_is_acked_fast_and_answered_in_its_thread_with_the_tenant_token(world):
    """In a channel thread the answer streams with Slack's streaming methods."""
    slack = world.extra["slack"]
    channel, ts = "C0MENTION1", message_ts()
    event = app_mention_event(
        f"<@{BOT_A}> deploy failed with ImagePullBackOff", channel=channel, ts=ts
    )

    status, _, seconds = post_event(world, TEAM_A, event)

    assert status == 200
    assert seconds < ACK_LIMIT_S
    answer = final_answer(slack, channel, ts)
    assert answer["thread_ts"] == ts
    assert ANSWER_WORDS in answer_shown(answer)
    starts = [c for c in slack.calls("chat.startStream") if c["channel"] == channel]
    assert len(starts) == 1 and starts[0]["recipient_user_id"]
    assert starts[0]["token"] == world.extra["token_a"]
    stops = [c for c in slack.calls("chat.stopStream") if c["channel"] == channel]
    assert [stop["token"] for stop in stops] == [world.extra["token_a"]]
    assert not [c for c in slack.calls("chat.postMessage") if c["channel"] == channel]


def test_a_slack_retry_of_the_same_event_produces_no_second_answer(world):
    """The retry is acked; then a new question in the same channel (the sentinel) is answered,
    and by then the retry, had it been stored, would be answered too."""
    slack = world.extra["slack"]
    channel, ts, sentinel_ts = "C0RETRY001", message_ts(), message_ts()
    event = app_mention_event(f"<@{BOT_A}> is the registry up?", channel=channel, ts=ts)

    first = post_event(world, TEAM_A, event, event_id="Ev0RETRY0001")
    final_answer(slack, channel, ts)
    retry = post_event(
        world, TEAM_A, event, event_id="Ev0RETRY0001",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )  # fmt: skip
    post_event(
        world, TEAM_A, app_mention_event(f"<@{BOT_A}> sentinel", channel=channel, ts=sentinel_ts)
    )
    final_answer(slack, channel, sentinel_ts)

    assert first[0] == retry[0] == 200
    assert questions_settled(world, channel) == ["acme/answered", "acme/answered"]
    assert agent_posts(slack, channel) == 2
    assert len(bot_messages(slack, channel, ts)) == 1


def test_a_dm_is_answered_in_the_dm(world):
    slack = world.extra["slack"]
    channel = "D0DIRECT77"

    status, _, _ = post_event(world, TEAM_A, message_event("how do I roll back?", channel=channel))

    assert status == 200
    answer = final_answer(slack, channel, None)
    assert answer.get("thread_ts") in (None, "")
    post = next(c for c in slack.calls("chat.postMessage") if c["channel"] == channel)
    assert not post.get("thread_ts")


def test_the_bots_own_messages_and_edits_are_ignored(world):
    """After the ignored events, a person's message in the same DM (the sentinel) is answered;
    it is the only question stored and the only answer posted there."""
    slack = world.extra["slack"]
    channel = "D0IGNORE01"
    ignored = [
        message_event("my own answer", channel=channel, user=BOT_A),
        message_event("a bot", channel=channel, bot_id="B0BOTAAAA", user=None),
        message_event("edited", channel=channel, subtype="message_changed", user=None),
        message_event("gone", channel=channel, subtype="message_deleted", user=None),
    ]

    statuses = [post_event(world, TEAM_A, event)[0] for event in ignored]
    post_event(world, TEAM_A, message_event("sentinel", channel=channel))
    final_answer(slack, channel, None)

    assert statuses == [200, 200, 200, 200]
    assert questions_settled(world, channel) == ["acme/answered"]
    assert agent_posts(slack, channel) == 1


@pytest.mark.parametrize(
    ("tamper", "expected_status"),
    [("signature", 401), ("stale", 403)],
)
def test_bad_signature_and_stale_timestamp_are_refused_and_nothing_is_posted(
    world, tamper, expected_status
):
    """After the refused request, a well-signed one in the same channel (the sentinel) is
    answered; it is the only question stored and the only answer posted there."""
    slack = world.extra["slack"]
    channel, sentinel_ts = f"C0REFUSE{expected_status}", message_ts()
    body = json.dumps(event_callback(TEAM_A, app_mention_event(f"<@{BOT_A}> hi", channel=channel)))
    if tamper == "signature":
        status, _, _ = post_signed(
            world, body, "application/json", headers={"X-Slack-Signature": "v0=" + "0" * 64}
        )
    else:
        status, _, _ = post_signed(
            world, body, "application/json", timestamp=int(time.time()) - 6 * 60
        )
    post_event(
        world, TEAM_A, app_mention_event(f"<@{BOT_A}> sentinel", channel=channel, ts=sentinel_ts)
    )
    final_answer(slack, channel, sentinel_ts)

    assert questions_settled(world, channel) == ["acme/answered"]
    assert agent_posts(slack, channel) == 1
    assert status == expected_status


def test_a_follow_up_in_the_thread_is_answered_without_a_new_mention_and_with_history(world):
    slack, ollama = world.extra["slack"], world.extra["ollama"]
    channel, ts = "C0FOLLOW01", message_ts()
    post_event(
        world, TEAM_A, app_mention_event(f"<@{BOT_A}> first question", channel=channel, ts=ts)
    )
    final_answer(slack, channel, ts)

    follow_up = message_event(
        "and the second one?", channel=channel, channel_type="channel", thread_ts=ts
    )
    post_event(world, TEAM_A, follow_up)

    wait_for(lambda: agent_posts(slack, channel) == 2)
    wait_for(
        lambda: any(
            "and the second one?" in json.dumps(r.json) for r in ollama.requests_to("/api/chat")
        )
    )
    prompt = next(
        r.json
        for r in ollama.requests_to("/api/chat")
        if "and the second one?" in json.dumps(r.json)
    )
    contents = [m["content"] for m in prompt["messages"]]
    assert contents[1:] == ["first question", ANSWER_WORDS, "and the second one?"]


def test_each_tenant_answers_with_its_own_token_persona_and_settings(world):
    slack, ollama = world.extra["slack"], world.extra["ollama"]
    channel, ts = "C0GLOBEX01", message_ts()

    post_event(
        world, TEAM_B, app_mention_event(f"<@{BOT_B}> disk full on db-02", channel=channel, ts=ts)
    )
    final_answer(slack, channel, ts)

    starts = [c for c in slack.calls("chat.startStream") if c["channel"] == channel]
    assert [start["token"] for start in starts] == [world.extra["token_b"]]
    prompt = next(
        r.json
        for r in ollama.requests_to("/api/chat")
        if "disk full on db-02" in json.dumps(r.json)
    )
    assert prompt["messages"][0]["content"].startswith("You are NOX of Globex, terse.")
    assert prompt["options"]["temperature"] == 0.9
    # Acme's earlier questions are not in Globex's prompt.
    assert "first question" not in json.dumps(prompt)


@pytest.mark.parametrize("agent", ["nox", "atlas", "cirrus"])
@pytest.mark.parametrize("verb", ["status", "help", "metrics"])
def test_slash_commands_reply_within_three_seconds_with_real_figures(world, agent, verb):
    body = slash_command_form(TEAM_A, f"/{agent}-{verb}")

    status, text, seconds = post_signed(world, body, "application/x-www-form-urlencoded")

    assert status == 200
    assert seconds < ACK_LIMIT_S
    reply = json.loads(text)
    assert reply["response_type"] == "ephemeral"
    rendered = json.dumps(reply["blocks"])
    assert agent.upper() in rendered
    if verb == "status":
        assert "reachable" in rendered and "llama3.1:8b" in rendered
    if verb == "metrics":
        assert "Questions answered, last 24 h" in rendered


def test_metrics_count_the_answers_given(world):
    slack = world.extra["slack"]
    channel, ts = "C0METRIC01", message_ts()
    post_event(world, TEAM_A, app_mention_event(f"<@{BOT_A}> count me", channel=channel, ts=ts))
    final_answer(slack, channel, ts)

    _, text, _ = post_signed(
        world, slash_command_form(TEAM_A, "/nox-metrics"), "application/x-www-form-urlencoded"
    )

    fields = json.loads(text)["blocks"][1]["fields"]
    answered_24h = next(f["text"] for f in fields if "Questions answered, last 24 h" in f["text"])
    assert int(answered_24h.split("\n")[1]) >= 1


def test_unreachable_model_is_announced_message_kept_and_answered_by_a_later_retry(world):
    slack, ollama = world.extra["slack"], world.extra["ollama"]
    channel, ts = "C0LLMDOWN1", message_ts()
    ollama.fail_next(2, status=503, path="/api/chat")  # the call and its one retry

    post_event(world, TEAM_A, app_mention_event(f"<@{BOT_A}> is prod ok?", channel=channel, ts=ts))

    def notice():
        for message in slack.thread(channel, ts):
            if "can't reach its language model" in message.get("text", ""):
                return message
        return None

    wait_for(notice)
    retried = world.manage("answers_retry", "--schema", "acme")
    assert retried.returncode == 0, retried.stderr
    assert "1 of 1 waiting question(s) answered" in retried.stdout
    answer = final_answer(slack, channel, ts)
    assert ANSWER_WORDS in answer_shown(answer)
    # Still one message in the thread from the agent: the notice became the answer.
    assert agent_posts(slack, channel) == 1
    assert len(bot_messages(slack, channel, ts)) == 1


def test_unknown_team_is_acked_and_nothing_is_done(world):
    """After the unknown team's event, a known team's in the same channel (the sentinel) is
    answered; it is the only question stored, in any tenant, and the only answer posted."""
    slack = world.extra["slack"]
    channel, sentinel_ts = "C0UNKNOWN1", message_ts()

    status, _, _ = post_event(world, "T0NOBODY99", app_mention_event("<@U0X> hi", channel=channel))
    post_event(
        world, TEAM_A, app_mention_event(f"<@{BOT_A}> sentinel", channel=channel, ts=sentinel_ts)
    )
    final_answer(slack, channel, sentinel_ts)

    assert status == 200
    assert questions_settled(world, channel) == ["acme/answered"]
    assert agent_posts(slack, channel) == 1


SCAN_RUNBOOK = """# Parcel scan consumer lag

Service: scan-ingest. Owner: #team-tracking.

## Symptoms

Alert ScanConsumerLagHigh fires; parcels show "in transit" for hours.

## Fix

Set `session.timeout.ms=45000` on scan-ingest, then
`kubectl rollout restart deploy/scan-ingest -n tracking`.
"""


def sources_line(message: dict) -> str | None:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if "Sources:" in element.get("text", ""):
                return element["text"]
    return None


def test_an_answer_shows_only_the_runbook_it_cites_and_none_when_nothing_matches(world, tmp_path):
    slack, ollama = world.extra["slack"], world.extra["ollama"]
    runbook = tmp_path / "scan-lag.md"
    runbook.write_text(SCAN_RUNBOOK)
    ingested = world.manage("kb_ingest", "acme", str(runbook))
    assert ingested.returncode == 0, ingested.stderr
    ollama.script_replies(["Raise the session timeout, then restart scan-ingest [1]."])
    channel, ts = "C0SOURCES1", message_ts()

    post_event(
        world,
        TEAM_A,
        app_mention_event(f"<@{BOT_A}> ScanConsumerLagHigh is firing", channel=channel, ts=ts),
    )

    line = sources_line(final_answer(slack, channel, ts))
    assert line is not None and "[1] <http://acme.localhost:" in line
    assert "/knowledge/" in line and "|Parcel scan consumer lag>" in line
    assert "[2]" not in line  # starter runbooks sharing a word are not shown
    prompt = ollama.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "session.timeout.ms=45000" in prompt  # the Fix came with the Symptoms that matched

    other, other_ts = "C0SOURCES2", message_ts()
    post_event(
        world,
        TEAM_A,
        app_mention_event(
            f"<@{BOT_A}> what is the capital of Mongolia?", channel=other, ts=other_ts
        ),
    )

    answer = final_answer(slack, other, other_ts)
    assert sources_line(answer) is None
    assert "No matching document in your knowledge base." in answer_shown(answer)
