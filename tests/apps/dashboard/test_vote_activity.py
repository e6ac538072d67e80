"""Votes on the dashboard: a vote opened, voted on and closed through the real services tells
its company's live feed (ws/activity/) and no other's, never with its arguments; the home page
lists recent votes with their tally."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.integrations.bases.chat import ChatThread, chat_for_team
from apps.tools.catalog import TOOLS
from apps.tools.registry import ToolContext
from apps.votes.models import Vote
from apps.votes.services import (
    approval_policy_set,
    ballot_cast,
    vote_execute,
    vote_gate,
    votes_expire,
)
from tests.factories import SlackWorkspaceFactory, slack_token, tenant_browser, tenant_make
from tests.websockets import activity_socket, domain_of, session_cookie

SECRET = "my salary is 12345"
CHANNEL = "C0VOTELIVE"


def slack_workspace(tenant, slack_double):
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant, bot_token=token, bot_user_id="U0BOTVOTE")
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id="U0BOTVOTE")
    return workspace


def vote_opened(tenant, workspace, *, direct=False) -> Vote:
    """A write call of NOX held by the gate (the default rule: one approval of the thread's
    people), as the answer pipeline holds it; ``direct``: asked in a direct message."""
    with schema_context(tenant.schema_name):
        channel = "D0VOTELIVE" if direct else CHANNEL
        conversation = Conversation.objects.create(
            agent=Agent.objects.get(slug="nox"),
            team_id=workspace.team_id,
            channel_id=channel,
            channel_type="im" if direct else "channel",
            thread_ts="1700000500.000100",
            started_by="U0ALICE",
        )
        thread = ChatThread(
            channel=channel, thread_ts="1700000500.000100", team_id=workspace.team_id
        )
        context = ToolContext(
            conversation_id=conversation.pk,
            agent=Agent.objects.get(slug="nox"),
            schema_name=connection.schema_name,
            requested_by="U0ALICE",
            chat=chat_for_team(workspace.team_id),
            thread=thread,
            participants=("U0ALICE", "U0BOB"),
        )
        arguments = {"project": "PAY", "summary": SECRET, "description": SECRET}
        vote_gate(context, TOOLS["jira_create_issue"], arguments, 1)
        return Vote.objects.get()


def executed(tenant, vote: Vote) -> None:
    """The worker's service runs the passed vote: the tenant has no Jira, so the check before
    running refuses it (NOX may no longer use the tool)."""
    with schema_context(tenant.schema_name):
        vote_execute(vote.pk)


def approved(tenant, vote: Vote) -> None:
    with schema_context(tenant.schema_name):
        ballot_cast(
            vote_id=vote.pk,
            voter="U0BOB",
            choice="approve",
            channel_id=vote.channel_id,
            message_ts=vote.message_ts,
        )


@pytest.mark.django_db(transaction=True)
def test_a_vote_opened_and_approved_reaches_its_companys_feed_and_never_anothers(
    slack_double,
):
    tenant_a, tenant_b = tenant_make(), tenant_make()
    workspace_a = slack_workspace(tenant_a, slack_double)
    workspace_b = slack_workspace(tenant_b, slack_double)
    host_a, host_b = domain_of(tenant_a), domain_of(tenant_b)
    cookie_a, cookie_b = session_cookie(tenant_a), session_cookie(tenant_b)

    async def scenario():
        socket_a = activity_socket(host_a, cookie=cookie_a)
        socket_b = activity_socket(host_b, cookie=cookie_b)
        assert await socket_a.connect() and await socket_b.connect()
        vote = await sync_to_async(vote_opened)(tenant_a, workspace_a)
        opened = await socket_a.receive_text()
        await sync_to_async(approved)(tenant_a, vote)
        closed = await socket_a.receive_json()
        # B's own vote reaches B first: A's two events, sent before it, would have come first.
        await sync_to_async(vote_opened)(tenant_b, workspace_b)
        own_b = await socket_b.receive_json()
        nothing_else = await socket_b.receive_nothing(timeout=0.5)
        await socket_a.disconnect()
        await socket_b.disconnect()
        return vote, opened, closed, own_b, nothing_else

    vote, raw_opened, closed, own_b, nothing_else = async_to_sync(scenario)()

    assert "12345" not in raw_opened
    opened = json.loads(raw_opened)
    assert opened["kind"] == "vote" and opened["moment"] == "opened"
    assert opened["vote_id"] == vote.pk and opened["tool"] == "jira_create_issue"
    assert opened["status"] == "open" and opened["agent"] == "NOX"
    assert (opened["approvals"], opened["rejections"], opened["needed"]) == (0, 0, 1)
    assert opened["direct"] is False and opened["user"] == "U0ALICE"
    assert closed["kind"] == "vote" and closed["moment"] == "closed"
    assert closed["status"] == "passed" and closed["approvals"] == 1
    assert own_b["kind"] == "vote" and own_b["moment"] == "opened"
    assert nothing_else


@pytest.mark.django_db
def test_the_home_page_lists_a_recent_vote_with_its_tally(client, tenant_a, slack_double):
    workspace = slack_workspace(tenant_a, slack_double)
    vote_opened(tenant_a, workspace)
    tenant_browser(client, tenant_a)

    page = client.get("/").content.decode()

    line = re.search(r'<li class="activity-line" data-kind="vote">.*?</li>', page, re.S).group(0)
    assert "jira_create_issue" in line and "NOX" in line and "U0ALICE" in line
    assert 'data-status="open"' in line
    assert "Approvals 0/1 needed · Rejections 0" in line
    assert "12345" not in page
    assert "data-label-vote=" in page and "data-label-needed=" in page


@pytest.mark.django_db(transaction=True)
def test_a_ballot_that_leaves_the_vote_open_shows_its_tally_then_the_expiry_closes_it(
    slack_double,
):
    tenant = tenant_make()
    workspace = slack_workspace(tenant, slack_double)
    with schema_context(tenant.schema_name):
        approval_policy_set(
            target="jira_create_issue",
            rule="majority",
            voters=["U0ALICE", "U0BOB", "U0CAROL"],
            weights={},
            quorum=0,
            expires_in=timedelta(minutes=30),
            counts_advisory=False,
        )
    host, cookie = domain_of(tenant), session_cookie(tenant)

    def expire(vote):
        with schema_context(tenant.schema_name):
            Vote.objects.filter(pk=vote.pk).update(deadline=timezone.now() - timedelta(seconds=1))
            assert votes_expire() == 1

    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        vote = await sync_to_async(vote_opened)(tenant, workspace)
        opened = await socket.receive_json()
        await sync_to_async(approved)(tenant, vote)
        ballot = await socket.receive_json()
        await sync_to_async(expire)(vote)
        expired = await socket.receive_json()
        await socket.disconnect()
        return opened, ballot, expired

    opened, ballot, expired = async_to_sync(scenario)()

    assert (opened["moment"], opened["needed"]) == ("opened", 2)
    assert ballot["moment"] == "ballot" and ballot["status"] == "open"
    assert (ballot["approvals"], ballot["rejections"], ballot["needed"]) == (1, 0, 2)
    assert expired["moment"] == "closed" and expired["status"] == "expired"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("direct", [False, True])
def test_an_executions_result_reaches_the_feed_only_outside_a_direct_message(slack_double, direct):
    tenant = tenant_make()
    workspace = slack_workspace(tenant, slack_double)
    host, cookie = domain_of(tenant), session_cookie(tenant)

    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        vote = await sync_to_async(vote_opened)(tenant, workspace, direct=direct)
        await sync_to_async(approved)(tenant, vote)
        await sync_to_async(executed)(tenant, vote)
        raws = [await socket.receive_text() for _ in range(3)]
        await socket.disconnect()
        return raws

    raws = async_to_sync(scenario)()

    opened, passed, refused = (json.loads(raw) for raw in raws)
    assert opened["direct"] is passed["direct"] is refused["direct"] is direct
    assert passed["status"] == "passed" and "execution" not in passed
    assert refused["moment"] == "closed" and refused["execution"] == "refused"
    if direct:
        assert refused["preview"] == ""
        assert not any("12345" in raw or "may no longer use" in raw for raw in raws)
    else:
        assert refused["preview"] == "NOX may no longer use jira_create_issue"
