"""A tenant with Slack (the double), Jira (the double, issue PAY-1 in progress) and a policy:
jira_transition_issue needs two thirds of Alice, Bob and Carol."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from apps.conversations.services import slack_question_store
from apps.integrations.bases.ticketing import ticketing_for_tenant
from apps.votes.services import approval_policy_set
from tests.factories import SlackWorkspaceFactory, incoming_message, slack_token

SECRET = "votes-signing-secret"
CHANNEL = "C0VOTES01"
ROOT_TS = "1700000300.000100"
VOTERS = ["U0ALICE", "U0BOB", "U0CAROL"]
TRANSITION = {"name": "jira_transition_issue", "arguments": {"key": "PAY-1", "status": "Done"}}


def policy_set(target="jira_transition_issue", rule="qualified_majority", voters=VOTERS, **extra):
    values = {"weights": {}, "quorum": 0, "expires_in": timedelta(minutes=30)}
    values["counts_advisory"] = False
    values.update(extra)
    return approval_policy_set(target=target, rule=rule, voters=list(voters), **values)


@pytest.fixture
def world(jira_tenant, jira_double, slack_double, ollama_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.TOOL_RETRY_BACKOFF_S = 0
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=jira_tenant, bot_token=token, bot_user_id="U0BOTVOTE")
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id="U0BOTVOTE")
    for user in [*VOTERS, "U0MALLORY"]:
        slack_double.add_user(user, email=f"{user.lower()}@acme.test", tz="Europe/Paris")
    connection.set_tenant(jira_tenant)
    issue = ticketing_for_tenant().issue_create(
        summary="Payments API down", description="502", idempotency_key="votes-setup"
    )
    jira_double.issue_status_set(issue.key, "In Progress")
    policy_set()
    return workspace


def ask(workspace, text="close PAY-1, it is fixed", *, user="U0ALICE", ts="1700000301.000100"):
    incoming = incoming_message(
        team_id=workspace.team_id,
        channel_id=CHANNEL,
        text=text,
        ts=ts,
        thread_ts=ROOT_TS,
        user_id=user,
    )
    return slack_question_store(incoming, thread_key=ROOT_TS)
