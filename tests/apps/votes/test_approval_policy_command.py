"""`manage.py approval_policy`: idempotent, validated, one line per error and exit 1; and the
tenant admin: policies editable, votes, ballots and executions read-only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.tools.catalog import TOOLS
from apps.votes.models import ApprovalPolicy, Ballot, Vote
from apps.votes.selectors import policy_for
from tests.factories import tenant_browser


def run(*args):
    call_command("approval_policy", *args)


def test_a_policy_is_set_for_a_tool_and_setting_it_again_replaces_it(tenant_a):
    args = [tenant_a.schema_name, "jira_transition_issue", "--rule", "qualified_majority"]
    run(*args, "--voters", "U0ALICE,U0BOB,U0CAROL", "--expires-in", "2h")
    run(*args, "--voters", "U0ALICE,U0BOB,U0CAROL", "--quorum", "2", "--expires-in", "45m")

    with schema_context(tenant_a.schema_name):
        policy = ApprovalPolicy.objects.get()
        assert (policy.tool, policy.risk) == ("jira_transition_issue", "")
        assert policy.voters == ["U0ALICE", "U0BOB", "U0CAROL"]
        assert (policy.quorum, policy.expires_in) == (2, timedelta(minutes=45))
        applied = policy_for(TOOLS["jira_transition_issue"])
        assert applied.source == "tool" and applied.rule == "qualified_majority"


def test_a_risk_level_policy_applies_to_its_tools_unless_a_tool_has_its_own(tenant_a):
    run(tenant_a.schema_name, "write", "--rule", "none")
    run(tenant_a.schema_name, "jira_add_comment", "--rule", "single", "--voters", "U0ALICE")

    with schema_context(tenant_a.schema_name):
        assert not policy_for(TOOLS["jira_create_issue"]).needs_vote
        assert policy_for(TOOLS["jira_add_comment"]).voters == ("U0ALICE",)
        assert policy_for(TOOLS["dns_lookup"]).source == "default"


def test_a_user_group_votes_when_named(tenant_a):
    run(tenant_a.schema_name, "dangerous", "--rule", "majority", "--group", "S0ONCALL")

    with schema_context(tenant_a.schema_name):
        policy = ApprovalPolicy.objects.get()
        assert (policy.risk, policy.user_group, policy.voters) == ("dangerous", "S0ONCALL", [])


def test_weights_go_with_the_weighted_rule(tenant_a):
    run(
        tenant_a.schema_name, "jira_transition_issue", "--rule", "weighted",
        "--voters", "U0ALICE,U0BOB", "--weights", "U0ALICE=3", "--counts-advisory",
        "--ask-advisors",
    )  # fmt: skip

    with schema_context(tenant_a.schema_name):
        policy = ApprovalPolicy.objects.get()
        assert policy.weights == {"U0ALICE": 3}
        assert policy.counts_advisory and policy.asks_advisors


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["no_such_tool", "--rule", "single"], "unknown tool 'no_such_tool'"),
        (["write", "--rule", "unanimous"], "unknown rule 'unanimous'"),
        (["write", "--rule", "single", "--voters", "alice"], "'alice' is not a chat user id"),
        (["write", "--rule", "single", "--expires-in", "soon"], "--expires-in takes a number"),
        (["write", "--rule", "single", "--expires-in", "90d"], "at most 30d"),
        (["write", "--rule", "weighted", "--weights", "U0ALICE"], "USER=NUMBER"),
        (["write", "--rule", "single", "--weights", "U0ALICE=2"], "only used by the weighted"),
        (["write", "--rule", "majority", "--voters", "U0ALICE", "--quorum", "2"], "never be met"),
        (["write", "--rule", "single", "--group", "oncall"], "not a user group id"),
    ],
)
def test_a_wrong_policy_is_one_line_and_nothing_is_stored(tenant_a, args, error):
    with pytest.raises(CommandError, match=error):
        run(tenant_a.schema_name, *args)

    with schema_context(tenant_a.schema_name):
        assert not ApprovalPolicy.objects.exists()


def test_an_unknown_schema_is_refused(db):
    with pytest.raises(CommandError, match="no tenant with schema 'nope'"):
        run("nope", "write", "--rule", "none")


def test_the_command_exits_1_with_one_line_on_error(manage_py):
    result = manage_py("approval_policy", "nope", "write", "--rule", "none")

    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: no tenant with schema 'nope'"


# --- admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, tenant_a):
    return tenant_browser(client, tenant_a)


def test_policies_are_editable_in_the_admin(admin_client, tenant_a):
    page = admin_client.get("/admin/votes/approvalpolicy/add/")
    created = admin_client.post(
        "/admin/votes/approvalpolicy/add/",
        {
            "tool": "jira_transition_issue",
            "risk": "",
            "rule": "majority",
            "voters": json.dumps(["U0ALICE", "U0BOB"]),
            "weights": "{}",
            "quorum": "0",
            "expires_in": "00:30:00",
        },
    )
    wrong = admin_client.post(
        "/admin/votes/approvalpolicy/add/",
        {
            "tool": "jira_add_comment",
            "risk": "",
            "rule": "majority",
            "voters": json.dumps(["U0ALICE"]),
            "weights": "{}",
            "quorum": "3",
            "expires_in": "00:30:00",
        },
    )

    assert page.status_code == 200
    assert created.status_code == 302
    assert wrong.status_code == 200 and "can never be met" in wrong.text
    with schema_context(tenant_a.schema_name):
        assert list(ApprovalPolicy.objects.values_list("tool", flat=True)) == [
            "jira_transition_issue"
        ]


def test_votes_and_ballots_are_shown_read_only_without_the_raw_arguments(admin_client, tenant_a):
    with schema_context(tenant_a.schema_name):
        vote = Vote.objects.create(
            agent=Agent.objects.get(slug="nox"),
            tool="jira_transition_issue",
            risk="write",
            arguments={"key": "PAY-1", "status": "Done"},
            arguments_raw=json.dumps({"key": "PAY-1", "status": "Done", "secret": "RAW-ONLY"}),
            rule={"rule": "single", "voters": ["U0ALICE"]},
            deadline=timezone.now() + timedelta(minutes=30),
        )
        Ballot.objects.create(vote=vote, voter="U0ALICE", choice="approve")

    detail = admin_client.get(f"/admin/votes/vote/{vote.pk}/change/")
    change = admin_client.post(f"/admin/votes/vote/{vote.pk}/change/", {})
    delete = admin_client.post(f"/admin/votes/vote/{vote.pk}/delete/", {"post": "yes"})
    ballots = admin_client.get("/admin/votes/ballot/")

    assert detail.status_code == 200 and "PAY-1" in detail.text and "U0ALICE" in detail.text
    assert "RAW-ONLY" not in detail.text
    assert change.status_code == delete.status_code == 403
    assert ballots.status_code == 200 and "U0ALICE" in ballots.text
    assert admin_client.get("/admin/votes/voteexecution/").status_code == 200
    assert admin_client.get("/admin/votes/ballot/add/").status_code == 403
