"""Clicks that must change nothing (a forged signature, another company's vote, someone who
may not vote) get a clear reply; twenty clicks at once still run the action once; the beat
task closes overdue votes. The real Celery worker (a thread) runs what the clicks enqueue."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.answering import answer_generate
from apps.votes.messages import VOTE_APPROVE_ACTION
from apps.votes.models import Ballot, Vote, VoteExecution
from apps.votes.services import vote_execute
from apps.votes.tasks import votes_expire_all_tenants
from jamono.celery import app as celery_app
from tests.apps.votes.conftest import CHANNEL, SECRET, TRANSITION, ask
from tests.doubles.slack_requests import block_actions_form, button_action, signed_headers
from tests.factories import tenant_make


@pytest.fixture
def committed(transactional_db):
    """Rows committed for real (the worker and the threads read them); the connection is put
    back in the public schema before the tables are emptied, or public's rows would stay."""
    yield
    connection.set_schema_to_public()


@pytest.fixture
def worker(committed):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def vote_asked(world, ollama_double) -> Vote:
    ollama_double.script_replies([[TRANSITION], "It needs your approval first."])
    answer_generate(question_id=ask(world).pk)
    return Vote.objects.get()


def click_body(team_id, vote_id, user, *, channel, ts, thread_ts="", secret=SECRET):
    body = block_actions_form(
        team_id,
        [button_action(VOTE_APPROVE_ACTION, str(vote_id))],
        user_id=user,
        channel_id=channel,
        message_ts=ts,
        thread_ts=thread_ts or None,
    )
    return body, signed_headers(body, secret)


def click(team_id, vote, user, *, secret=SECRET, client=None):
    body, headers = click_body(
        team_id,
        vote.pk,
        user,
        channel=vote.channel_id,
        ts=vote.message_ts,
        thread_ts=vote.thread_ts,
        secret=secret,
    )
    return (client or Client()).post(
        "/slack/events", data=body, content_type="application/x-www-form-urlencoded", **headers
    )


def transitions_posted(jira_double) -> int:
    return len([r for r in jira_double.requests if r.method == "POST" and "transitions" in r.path])


def test_a_click_with_a_bad_signature_is_refused_and_changes_nothing(
    world, ollama_double, jira_double
):
    vote = vote_asked(world, ollama_double)

    response = click(world.team_id, vote, "U0ALICE", secret="not-the-secret")

    assert response.status_code == 401 and "invalid Slack signature" in response.json()["error"]
    with schema_context(world.tenant.schema_name):
        assert not Ballot.objects.exists()
        assert Vote.objects.get().status == Vote.Status.OPEN


def test_someone_who_may_not_vote_is_told_so_and_nothing_changes(
    worker, world, ollama_double, slack_double
):
    vote = vote_asked(world, ollama_double)

    assert click(world.team_id, vote, "U0MALLORY").status_code == 200

    told = wait_for(lambda: slack_double.ephemerals(CHANNEL))
    assert told[0]["recipient"] == "U0MALLORY"
    assert "You can't vote on this" in told[0]["text"]
    with schema_context(world.tenant.schema_name):
        assert not Ballot.objects.exists()
        assert Vote.objects.get().status == Vote.Status.OPEN


def test_another_companys_vote_cannot_be_voted_on_from_this_workspace(
    worker, world, ollama_double, slack_double
):
    vote_a = vote_asked(world, ollama_double)
    tenant_b = tenant_make(name="Company B")
    with schema_context(tenant_b.schema_name):
        vote_b = Vote.objects.create(
            agent=Agent.objects.get(slug="nox"),
            tool="jira_transition_issue",
            risk="write",
            arguments={"key": "PAY-9", "status": "Done"},
            arguments_raw=json.dumps({"key": "PAY-9", "status": "Done"}),
            rule={"rule": "single", "voters": ["U0ALICE"]},
            deadline=timezone.now() + timedelta(minutes=30),
            team_id="T0OTHERCO",
            channel_id="C0OTHER01",
            message_ts="1700000999.000100",
        )
    # Alice may vote in her company, but the click names company B's vote and message.
    body, headers = click_body(
        world.team_id, vote_b.pk, "U0ALICE", channel=vote_b.channel_id, ts=vote_b.message_ts
    )
    response = Client().post(
        "/slack/events", data=body, content_type="application/x-www-form-urlencoded", **headers
    )

    assert response.status_code == 200
    told = wait_for(lambda: slack_double.ephemerals("C0OTHER01"))
    assert "This vote does not exist here" in told[0]["text"]
    with schema_context(tenant_b.schema_name):
        assert not Ballot.objects.exists()
        assert Vote.objects.get().status == Vote.Status.OPEN
    with schema_context(world.tenant.schema_name):
        assert not Ballot.objects.exists()
        assert Vote.objects.get(pk=vote_a.pk).status == Vote.Status.OPEN


def test_twenty_clicks_at_once_run_the_action_exactly_once(
    worker, world, ollama_double, slack_double, jira_double
):
    vote = vote_asked(world, ollama_double)
    voters = ["U0ALICE", "U0BOB", "U0CAROL"]

    def one_click(n):
        try:
            return click(world.team_id, vote, voters[n % 3]).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(one_click, range(20)))

    assert statuses == [200] * 20

    def executed():
        with schema_context(world.tenant.schema_name):
            return Vote.objects.get().status == Vote.Status.EXECUTED

    wait_for(executed)
    time.sleep(1.0)  # any second run would have come by now
    assert transitions_posted(jira_double) == 1
    assert jira_double.issue("PAY-1")["fields"]["status"]["name"] == "Done"
    with schema_context(world.tenant.schema_name):
        assert VoteExecution.objects.count() == 1
        assert VoteExecution.objects.get().status == VoteExecution.Status.DONE
        assert Ballot.objects.count() <= 3
    passed = [m for m in slack_double.messages(CHANNEL) if f"Vote #{vote.pk} passed" in m["text"]]
    assert len(passed) == 1


def test_the_beat_task_expires_an_overdue_vote_updates_its_message_and_it_never_runs(
    worker, world, ollama_double, slack_double, jira_double
):
    vote = vote_asked(world, ollama_double)
    Vote.objects.filter(pk=vote.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    connection.set_schema_to_public()

    votes_expire_all_tenants.delay()

    def expired():
        with schema_context(world.tenant.schema_name):
            return Vote.objects.get().status == Vote.Status.EXPIRED

    wait_for(expired)

    def message_updated():
        updates = [u for u in slack_double.calls("chat.update") if u["ts"] == vote.message_ts]
        shown = json.dumps(updates[-1]["blocks"], ensure_ascii=False) if updates else ""
        return "the deadline passed" in shown and shown

    shown = wait_for(message_updated)
    assert VOTE_APPROVE_ACTION not in shown  # no buttons left
    assert click(world.team_id, vote, "U0ALICE").status_code == 200
    told = wait_for(lambda: slack_double.ephemerals(CHANNEL))
    assert "This vote is closed" in told[0]["text"]
    assert transitions_posted(jira_double) == 0
    with schema_context(world.tenant.schema_name):
        assert not VoteExecution.objects.exists() and not Ballot.objects.exists()


def test_twenty_workers_executing_one_passed_vote_at_once_run_it_once(
    committed, world, ollama_double, jira_double
):
    vote = vote_asked(world, ollama_double)
    for voter in ("U0ALICE", "U0BOB"):
        Ballot.objects.create(vote=vote, voter=voter, choice=Ballot.Choice.APPROVE)
    Vote.objects.filter(pk=vote.pk).update(status=Vote.Status.PASSED)

    def one_run(_n):
        try:
            connection.set_tenant(world.tenant)
            return vote_execute(vote.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        runs = list(pool.map(one_run, range(20)))

    assert len([run for run in runs if run is not None]) == 1
    assert transitions_posted(jira_double) == 1
    assert VoteExecution.objects.count() == 1
