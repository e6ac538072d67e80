"""A risky call waits for a vote in its thread: the vote message, ballots through signed Slack
clicks on /slack/events, the call run once on pass (the worker's service run here in the
test), never on reject, and checked again just before it runs."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from apps.agents.models import Agent
from apps.conversations.answering import answer_generate
from apps.integrations.bases.chat import ChatThread, chat_for_team
from apps.tools.catalog import TOOLS
from apps.tools.executor import CallOutcome
from apps.tools.models import ToolCallRecord
from apps.tools.registry import ToolContext
from apps.tools.services import agent_tool_set
from apps.votes.messages import VOTE_APPROVE_ACTION, VOTE_REJECT_ACTION, vote_message
from apps.votes.models import Ballot, Vote, VoteExecution
from apps.votes.services import (
    VoteRefused,
    advice_parse,
    advisory_ballot_cast,
    vote_advice_gather,
    vote_execute,
    vote_gate,
)
from tests.apps.votes.conftest import CHANNEL, SECRET, TRANSITION, ask, policy_set
from tests.doubles.slack_requests import block_actions_form, button_action, signed_headers


def vote_asked(world, ollama_double, call=TRANSITION, **ask_options) -> Vote:
    ollama_double.script_replies([[call], "It needs your approval first."])
    answer_generate(question_id=ask(world, **ask_options).pk)
    return Vote.objects.get()


def click(client, world, vote, user, action=VOTE_APPROVE_ACTION, *, value=None, ts=None):
    body = block_actions_form(
        world.team_id,
        [button_action(action, str(vote.pk) if value is None else value)],
        user_id=user,
        channel_id=vote.channel_id,
        message_ts=ts or vote.message_ts,
        thread_ts=vote.thread_ts,
    )
    response = client.post(
        "/slack/events",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed_headers(body, SECRET),
    )
    connection.set_tenant(world.tenant)  # the request left the schema
    vote.refresh_from_db()
    return response


def transitions_posted(jira_double) -> int:
    return len([r for r in jira_double.requests if r.method == "POST" and "transitions" in r.path])


def status_of(jira_double, key="PAY-1") -> str:
    return jira_double.issue(key)["fields"]["status"]["name"]


def test_a_call_needing_approval_is_not_run_a_vote_is_posted_and_the_model_told(
    world, ollama_double, slack_double, jira_double
):
    vote = vote_asked(world, ollama_double)

    assert vote.status == Vote.Status.OPEN and vote.tool == "jira_transition_issue"
    assert vote.rule["voters"] == ["U0ALICE", "U0BOB", "U0CAROL"]
    assert status_of(jira_double) == "In Progress" and transitions_posted(jira_double) == 0
    assert not ToolCallRecord.objects.filter(tool="jira_transition_issue").exists()
    posted = next(m for m in slack_double.messages(CHANNEL) if m["ts"] == vote.message_ts)
    shown = json.dumps(posted["blocks"], ensure_ascii=False)
    for words in ["Vote #", "jira_transition_issue", "PAY-1", "Done", "<@U0BOB>", "two-thirds"]:
        assert words in shown
    assert "Approve: 0 · Reject: 0 (of 3)" in shown and "Open until" in shown
    actions = next(b for b in posted["blocks"] if b["type"] == "actions")["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [
        (VOTE_APPROVE_ACTION, str(vote.pk)),
        (VOTE_REJECT_ACTION, str(vote.pk)),
    ]
    tool_message = ollama_double.requests_to("/api/chat")[-1].json["messages"][-1]
    assert f"awaiting approval (vote #{vote.pk})" in tool_message["content"]
    final = json.dumps(slack_double.calls("chat.update")[-1]["blocks"], ensure_ascii=False)
    assert f"awaits approval (vote #{vote.pk})" in final


def test_two_of_three_approvals_run_the_action_once_and_tell_the_thread(
    client, world, ollama_double, slack_double, jira_double
):
    vote = vote_asked(world, ollama_double)

    assert click(client, world, vote, "U0ALICE").status_code == 200
    assert vote.status == Vote.Status.OPEN
    click(client, world, vote, "U0CAROL")
    assert vote.status == Vote.Status.PASSED
    assert status_of(jira_double) == "In Progress"  # the worker runs it, not the click

    execution = vote_execute(vote.pk)

    assert execution.status == VoteExecution.Status.DONE
    assert status_of(jira_double) == "Done" and transitions_posted(jira_double) == 1
    assert "passed with 2 approval(s)" in execution.check_summary
    assert execution.tool_call.status == ToolCallRecord.Status.DONE
    vote.refresh_from_db()
    assert vote.status == Vote.Status.EXECUTED
    assert any(f"Vote #{vote.pk} passed." in m["text"] for m in slack_double.messages(CHANNEL))
    updated = [u for u in slack_double.calls("chat.update") if u["ts"] == vote.message_ts]
    assert "Approved and done." in json.dumps(updated[-1]["blocks"], ensure_ascii=False)
    assert not [b for b in updated[-1]["blocks"] if b["type"] == "actions"]  # no more buttons
    # Another worker, or a retry of the task: nothing runs again.
    assert vote_execute(vote.pk) is None
    assert transitions_posted(jira_double) == 1


def test_two_rejections_of_three_close_the_vote_and_it_never_runs(
    client, world, ollama_double, jira_double
):
    vote = vote_asked(world, ollama_double)

    click(client, world, vote, "U0BOB", VOTE_REJECT_ACTION)
    click(client, world, vote, "U0CAROL", VOTE_REJECT_ACTION)

    assert vote.status == Vote.Status.REJECTED and vote.closed_at is not None
    assert vote_execute(vote.pk) is None
    assert not VoteExecution.objects.exists() and transitions_posted(jira_double) == 0
    # Closed: a late approval is not taken.
    click(client, world, vote, "U0ALICE")
    assert vote.status == Vote.Status.REJECTED
    assert not Ballot.objects.filter(voter="U0ALICE").exists()


def test_a_voter_changes_their_ballot_until_the_vote_closes(client, world, ollama_double):
    vote = vote_asked(world, ollama_double)

    click(client, world, vote, "U0BOB")
    click(client, world, vote, "U0BOB", VOTE_REJECT_ACTION)

    ballot = Ballot.objects.get(vote=vote)
    assert (ballot.voter, ballot.choice) == ("U0BOB", "reject")
    assert [entry["choice"] for entry in ballot.history] == ["approve", "reject"]
    assert vote.status == Vote.Status.OPEN  # Alice and Carol could still make two thirds


def test_a_write_without_a_policy_needs_one_person_of_the_thread(
    client, world, ollama_double, jira_double
):
    comment = {"name": "jira_add_comment", "arguments": {"key": "PAY-1", "body": "Fixed."}}
    vote = vote_asked(world, ollama_double, comment, user="U0BOB")

    assert vote.rule["rule"] == "single" and vote.rule["voters"] == ["U0BOB"]
    assert vote.rule["source"] == "default"
    click(client, world, vote, "U0ALICE")  # not in the thread: not a voter
    assert vote.status == Vote.Status.OPEN
    click(client, world, vote, "U0BOB")
    assert vote.status == Vote.Status.PASSED
    vote_execute(vote.pk)
    assert [c["body"] for c in jira_double.issue("PAY-1")["comments"]] == ["Fixed."]


def test_a_read_tool_runs_without_a_vote(world, ollama_double, jira_double):
    search = {"name": "jira_search_issues", "arguments": {"jql": "project = PAY"}}
    ollama_double.script_replies([[search], "PAY-1 is in progress."])

    answer_generate(question_id=ask(world).pk)

    assert not Vote.objects.exists()
    assert ToolCallRecord.objects.get(tool="jira_search_issues").status == "done"


def test_a_policy_made_stricter_before_the_run_reopens_the_vote(client, world, ollama_double):
    vote = vote_asked(world, ollama_double)
    click(client, world, vote, "U0ALICE")
    click(client, world, vote, "U0BOB")
    assert vote.status == Vote.Status.PASSED
    policy_set(rule="consensus")

    assert vote_execute(vote.pk) is None

    vote.refresh_from_db()
    assert vote.status == Vote.Status.OPEN and vote.rule["rule"] == "consensus"
    assert not VoteExecution.objects.exists()
    click(client, world, vote, "U0CAROL")
    assert vote.status == Vote.Status.PASSED


def test_a_call_no_longer_allowed_when_it_would_run_is_refused_and_recorded(
    client, world, ollama_double, slack_double, jira_double
):
    vote = vote_asked(world, ollama_double)
    click(client, world, vote, "U0ALICE")
    click(client, world, vote, "U0BOB")
    agent_tool_set(vote.agent, "jira_transition_issue", enabled=False)

    execution = vote_execute(vote.pk)

    assert execution.status == VoteExecution.Status.REFUSED
    assert "may no longer use jira_transition_issue" in execution.check_summary
    assert transitions_posted(jira_double) == 0
    assert any("was not run" in m["text"] for m in slack_double.messages(CHANNEL))
    updated = [u for u in slack_double.calls("chat.update") if u["ts"] == vote.message_ts]
    assert "Approved, but not run: NOX may no longer use" in json.dumps(
        updated[-1]["blocks"], ensure_ascii=False
    )
    execution.summary = "changed"
    with pytest.raises(Exception, match="never changed"):
        execution.save()


def test_advisory_ballots_are_shown_apart_and_counted_only_where_the_policy_says(
    client, world, ollama_double, slack_double
):
    vote = vote_asked(world, ollama_double)

    advisory_ballot_cast(
        vote_id=vote.pk, agent_slug="atlas", choice="approve", reason="Low risk: PAY-1 is fixed."
    )
    click(client, world, vote, "U0ALICE")

    assert vote.status == Vote.Status.OPEN  # ATLAS is not counted: 1 of 3
    message = vote_message(vote, chat=chat_for_team(world.team_id), agent_name="NOX")
    assert "ATLAS advises to approve: Low risk: PAY-1 is fixed. (advisory, not counted)" in (
        message.notes
    )
    assert "Approve: 1 · Reject: 0 (of 3)" in message.notes  # people's ballots only
    with pytest.raises(VoteRefused):
        advisory_ballot_cast(vote_id=vote.pk, agent_slug="nox", choice="approve", reason="me")


def test_counted_advisory_ballots_can_carry_a_vote(client, world, ollama_double):
    policy_set(counts_advisory=True)
    vote = vote_asked(world, ollama_double)

    for agent in ("atlas", "cirrus"):
        advisory_ballot_cast(vote_id=vote.pk, agent_slug=agent, choice="approve", reason="ok")
    click(client, world, vote, "U0ALICE")
    assert vote.status == Vote.Status.OPEN  # 3 of 5: under two thirds
    click(client, world, vote, "U0BOB")
    assert vote.status == Vote.Status.PASSED


def gate_context(world, question, *, chat=True):
    return ToolContext(
        agent=Agent.objects.get(slug="nox"),
        schema_name=connection.schema_name,
        requested_by="U0ALICE",
        chat=chat_for_team(world.team_id) if chat else None,
        thread=ChatThread(channel=CHANNEL, thread_ts=question.slack_ts, team_id=world.team_id)
        if chat
        else None,
        question_id=question.pk,
    )


def test_a_retried_answer_finds_its_vote_instead_of_opening_another(world, slack_double):
    question = ask(world)
    tool = TOOLS["jira_transition_issue"]
    arguments = {"key": "PAY-1", "status": "Done"}

    first = vote_gate(gate_context(world, question), tool, arguments, 1)
    again = vote_gate(gate_context(world, question), tool, arguments, 1)

    assert first.outcome == again.outcome == CallOutcome.AWAITING
    assert Vote.objects.count() == 1
    assert len([m for m in slack_double.messages(CHANNEL) if "Vote #" in m["text"]]) == 1


def test_a_call_needing_approval_without_a_chat_thread_is_refused(world):
    question = ask(world)
    tool = TOOLS["jira_transition_issue"]

    report = vote_gate(
        gate_context(world, question, chat=False), tool, {"key": "PAY-1", "status": "Done"}, 1
    )

    assert report.outcome == CallOutcome.REFUSED and "needs a chat thread" in report.note
    assert not Vote.objects.exists()


def test_a_user_groups_members_vote_as_well_as_the_voters_named(
    client, world, ollama_double, slack_double
):
    slack_double.add_user_group("S0ONCALL", ["U0DAVE", "U0ERIN"])
    policy_set(rule="majority", voters=["U0ALICE"], user_group="S0ONCALL")

    vote = vote_asked(world, ollama_double)

    assert vote.rule["voters"] == ["U0ALICE", "U0DAVE", "U0ERIN"]
    click(client, world, vote, "U0ERIN")
    click(client, world, vote, "U0BOB")  # not named, not in the group
    assert vote.status == Vote.Status.OPEN
    click(client, world, vote, "U0DAVE")
    assert vote.status == Vote.Status.PASSED


def test_a_user_group_that_cannot_be_read_leaves_only_the_voters_named(
    world, ollama_double, slack_double
):
    policy_set(rule="single", voters=["U0ALICE"], user_group="S0UNKNOWN")

    vote = vote_asked(world, ollama_double)

    assert vote.rule["voters"] == ["U0ALICE"]


def test_atlas_and_cirrus_are_asked_for_advice_shown_apart_and_not_counted(
    world, ollama_double, slack_double
):
    policy_set(asks_advisors=True)
    vote = vote_asked(world, ollama_double)
    ollama_double.reply_text = "APPROVE: the thread says PAY-1 is fixed."

    assert vote_advice_gather(vote.pk) == 2

    advice = Ballot.objects.filter(vote=vote, advisory=True).order_by("voter")
    assert [(b.voter, b.choice, b.reason) for b in advice] == [
        ("atlas", "approve", "the thread says PAY-1 is fixed."),
        ("cirrus", "approve", "the thread says PAY-1 is fixed."),
    ]
    vote.refresh_from_db()
    assert vote.status == Vote.Status.OPEN  # two advisory approvals decide nothing
    message = vote_message(vote, chat=chat_for_team(world.team_id), agent_name="NOX")
    assert "CIRRUS advises to approve: the thread says PAY-1 is fixed. (advisory, not counted)" in (
        message.notes
    )


def test_advice_without_a_verdict_gives_no_ballot(world, ollama_double):
    vote = vote_asked(world, ollama_double)
    ollama_double.reply_text = "It depends on many things."

    assert vote_advice_gather(vote.pk) == 0
    assert not Ballot.objects.exists()


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("APPROVE: low risk", ("approve", "low risk")),
        ("**Reject** — the issue is still failing", ("reject", "the issue is still failing")),
        ("approved. fine", ("approve", "fine")),
        ("\n\nREJECT", ("reject", "")),
        ("I would approve", None),
        ("", None),
    ],
)
def test_advice_is_read_from_its_first_line(text, advice):
    assert advice_parse(text) == advice
