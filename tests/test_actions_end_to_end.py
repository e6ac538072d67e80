"""Agents that act, against `make run`: a signed Slack mention asks NOX to open a ticket and set
up a post-mortem; the real Celery worker runs the tool loop with the Ollama double answering
with tool calls, the real `jira` client creates the issue on the Jira double, and the
invitation is uploaded to the thread on the Slack double (files upload v2)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.doubles.jira import JiraDouble
from tests.doubles.ollama import OllamaDouble
from tests.doubles.slack import SlackDouble
from tests.doubles.slack_requests import app_mention_event, message_ts
from tests.factories import slack_token
from tests.stack_runner import stack_start
from tests.test_slack_end_to_end import SECRET, answer_shown, post_event, wait_for

TEAM, BOT = "T0ACTIONS", "U0BOTACTS"
CHANNEL = "C0INCIDENT"

# Prints the audit trail of the tenant: [[tool, status, requested_by], ...].
AUDIT_CODE = """
import json
from apps.tools.models import ToolCallRecord
print(json.dumps([[r.tool, r.status, r.requested_by, r.agent.slug]
                  for r in ToolCallRecord.objects.order_by("pk")]))
"""


def tomorrow_at_14_in_paris() -> datetime:
    day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def doubles():
    slack, ollama, jira = SlackDouble().start(), OllamaDouble().start(), JiraDouble().start()
    try:
        yield slack, ollama, jira
    finally:
        for double in (slack, ollama, jira):
            double.stop()


def test_one_message_opens_one_ticket_and_one_invitation_in_the_thread(doubles, tmp_path):
    slack, ollama, jira = doubles
    token = slack_token()
    slack.add_token(token, team_id=TEAM, bot_user_id=BOT)
    slack.add_user("U0ALICE", email="alice@acme.test", tz="Europe/Paris", real_name="Alice")
    slack.add_user("U0BOB", email="bob@acme.test", tz="America/New_York", real_name="Bob")
    start = tomorrow_at_14_in_paris()
    ollama.script_replies(
        [
            "Looking: the payments API answers 502 since 10:05.",
            [
                {
                    "name": "jira_create_issue",
                    "arguments": {
                        "summary": "Payments API down since 10:05",
                        "description": "The payments API has answered 502 since 10:05.",
                        "issue_type": "Incident",
                        "priority": "Highest",
                    },
                }
            ],
            [
                {
                    "name": "postmortem_schedule",
                    "arguments": {
                        "title": "Post-mortem: payments API outage",
                        "start": start.strftime("%Y-%m-%dT%H:%M"),
                        "duration_minutes": 45,
                        "attendees": ["sre-lead@acme.test"],
                        "jira_key": "PAY-1",
                    },
                }
            ],
            "Opened PAY-1 and invited the thread to the post-mortem tomorrow at 14:00.",
        ]
    )
    stack = stack_start(
        tmp_path / "data",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        OLLAMA_HOST=ollama.url,
        LLM_PROVIDER="ollama",
        SLACK_UPDATE_INTERVAL_S="0.2",
    )
    output = ""
    try:
        for args in (
            ("add_tenant", "acme", "--name", "Acme"),
            ("connect_slack", "acme", "--team-id", TEAM, "--bot-token", token,
             "--bot-user-id", BOT),
            ("connect_jira", "acme", "--url", jira.url, "--email", jira.email,
             "--api-token", jira.api_token, "--project", "PAY"),
            # Writes run without a vote here (votes: tests/test_votes_end_to_end.py).
            ("approval_policy", "acme", "write", "--rule", "none"),
        ):  # fmt: skip
            result = stack.manage(*args)
            assert result.returncode == 0, result.stderr
        root = message_ts()
        # Bob reports it (NOX answers in words), then Alice asks NOX to act, in the thread.
        status, _body, _ = post_event(
            stack,
            TEAM,
            app_mention_event(
                f"<@{BOT}> payments API returns 502", user="U0BOB", channel=CHANNEL, ts=root
            ),
        )
        assert status == 200
        wait_for(lambda: len(ollama.requests_to("/api/chat")) >= 1, timeout=60)
        wait_for(lambda: [m for m in slack.thread(CHANNEL, root) if m.get("bot_id")], timeout=60)
        wait_for(lambda: "502" in answer_shown(slack.thread(CHANNEL, root)[-1]), timeout=60)
        status, _body, _ = post_event(
            stack,
            TEAM,
            app_mention_event(
                f"<@{BOT}> the payments API is down since 10:05, open a ticket and set up a "
                "post-mortem tomorrow at 14:00",
                user="U0ALICE",
                channel=CHANNEL,
                thread_ts=root,
            ),
        )
        assert status == 200

        def final_answer():
            for message in slack.thread(CHANNEL, root):
                shown = answer_shown(message)
                if message.get("bot_id") and "Opened PAY-1" in shown and "NOX ·" in shown:
                    return shown
            return None

        shown = wait_for(final_answer, timeout=90)

        assert len(jira.issues) == 1
        issue = jira.issues[0]
        assert issue["key"] == "PAY-1"
        assert f"slack.com/archives/{CHANNEL}" in issue["fields"]["description"]
        assert f"{jira.url}/browse/PAY-1" in shown  # the answer links the key
        files = [f for f in slack.files(CHANNEL) if f["filename"].endswith(".ics")]
        assert len(files) == 1 and files[0]["thread_ts"] == root
        calendar = icalendar.Calendar.from_ical(files[0]["content"])
        assert str(calendar["METHOD"]) == "REQUEST"
        event = next(iter(calendar.walk("VEVENT")))
        assert event["DTSTART"].dt == start
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
        assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert {str(a).removeprefix("mailto:") for a in attendees} == {
            "bob@acme.test",
            "sre-lead@acme.test",
        }
        assert str(event["ORGANIZER"]).removeprefix("mailto:") == "alice@acme.test"
        assert "PAY-1" in str(event["DESCRIPTION"])

        audit = stack.manage("tenant_command", "shell", "--schema", "acme", "-c", AUDIT_CODE)
        assert audit.returncode == 0, audit.stderr
        assert json.loads(audit.stdout.strip().splitlines()[-1]) == [
            ["jira_create_issue", "done", "U0ALICE", "nox"],
            ["postmortem_schedule", "done", "U0ALICE", "nox"],
        ]
    finally:
        output = stack.stop()
    assert jira.api_token not in output  # the Jira token is in no log line
    assert "jira_create_issue" in output  # (the logs were captured)
