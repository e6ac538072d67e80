"""Votes against `make run`: NOX proposes a Jira transition that the company's policy puts to a
two-thirds vote of three people; the vote message appears in the Slack thread, one approval
is not enough, and twenty signed clicks at once from the two others run it exactly once."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from tests.doubles.jira import JiraDouble
from tests.doubles.ollama import OllamaDouble
from tests.doubles.slack import SlackDouble
from tests.doubles.slack_requests import (
    app_mention_event,
    block_actions_payload,
    button_action,
    message_ts,
)
from tests.factories import slack_token
from tests.stack_runner import stack_start
from tests.test_slack_end_to_end import SECRET, post_event, post_signed, wait_for

TEAM, BOT = "T0VOTESE2", "U0BOTVOTE"
CHANNEL = "C0VOTEE2E"
VOTERS = ("U0ALICE", "U0BOB", "U0CAROL")


def click(stack, vote_id: str, user: str, ts: str, thread_ts: str):
    payload = block_actions_payload(
        TEAM,
        [button_action("vote_approve", vote_id)],
        user_id=user,
        channel_id=CHANNEL,
        message_ts=ts,
        thread_ts=thread_ts,
    )
    body = urlencode({"payload": json.dumps(payload)})
    return post_signed(stack, body, "application/x-www-form-urlencoded")[0]


def vote_message(slack: SlackDouble, root: str):
    for message in slack.thread(CHANNEL, root):
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == "vote_approve":
                    return message, element["value"]
    return None


def shown(message: dict) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False)


def transitions(jira: JiraDouble) -> int:
    return len([r for r in jira.requests if r.method == "POST" and "transitions" in r.path])


def test_two_of_three_approve_and_twenty_clicks_at_once_run_it_once(tmp_path):
    slack, ollama, jira = SlackDouble().start(), OllamaDouble().start(), JiraDouble().start()
    token = slack_token()
    slack.add_token(token, team_id=TEAM, bot_user_id=BOT)
    ollama.script_replies(
        [
            [
                {
                    "name": "jira_create_issue",
                    "arguments": {"summary": "Payments API down", "description": "502s."},
                }
            ],
            [
                {
                    "name": "jira_transition_issue",
                    "arguments": {"key": "PAY-1", "status": "In Progress"},
                }
            ],
            "Opened PAY-1; moving it to In Progress awaits your approval.",
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
    try:
        for args in (
            ("add_tenant", "acme", "--name", "Acme"),
            ("connect_slack", "acme", "--team-id", TEAM, "--bot-token", token,
             "--bot-user-id", BOT),
            ("connect_jira", "acme", "--url", jira.url, "--email", jira.email,
             "--api-token", jira.api_token, "--project", "PAY"),
            ("approval_policy", "acme", "write", "--rule", "none"),
            ("approval_policy", "acme", "jira_transition_issue", "--rule",
             "qualified_majority", "--voters", ",".join(VOTERS)),
        ):  # fmt: skip
            result = stack.manage(*args)
            assert result.returncode == 0, result.stderr
        root = message_ts()
        status, _body, _ = post_event(
            stack,
            TEAM,
            app_mention_event(
                f"<@{BOT}> open a ticket for the payments outage and start work on it",
                user="U0ALICE",
                channel=CHANNEL,
                ts=root,
            ),
        )
        assert status == 200

        message, vote_id = wait_for(lambda: vote_message(slack, root), timeout=90)
        assert "jira_transition_issue" in shown(message) and "<@U0CAROL>" in shown(message)
        assert len(jira.issues) == 1 and transitions(jira) == 0

        # One approval of three: the message shows it, nothing runs.
        assert click(stack, vote_id, "U0ALICE", message["ts"], root) == 200
        wait_for(
            lambda: "Approve: 1 · Reject: 0 (of 3)" in shown(vote_message(slack, root)[0]),
            timeout=30,
        )
        assert transitions(jira) == 0

        # Bob and Carol click at the same instant, ten times each.
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(
                pool.map(
                    lambda n: click(stack, vote_id, VOTERS[1 + n % 2], message["ts"], root),
                    range(20),
                )
            )
        assert statuses == [200] * 20

        def passed_posts():
            return [
                m for m in slack.thread(CHANNEL, root) if f"Vote #{vote_id} passed" in m["text"]
            ]

        wait_for(passed_posts, timeout=60)
        time.sleep(2.0)  # a second run would have come by now
        assert len(passed_posts()) == 1
        assert transitions(jira) == 1
        assert jira.issue("PAY-1")["fields"]["status"]["name"] == "In Progress"
    finally:
        output = stack.stop()
        for double in (slack, ollama, jira):
            double.stop()
    assert jira.api_token not in output
