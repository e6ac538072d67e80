"""The votes pages of a company's site (``/votes/``, ``/votes/<id>/``): open votes first, the
tally against what passes, ballots and their changes, the execution; read-only, for those with
``votes.view_vote``; a private conversation's vote shows its tool and status only; a company
never sees another's votes."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.votes.models import Ballot, Vote, VoteExecution
from tests.factories import tenant_browser

pytestmark = pytest.mark.django_db

VOTERS = ["U0ALICE", "U0BOB", "U0CAROL"]
RAW_SECRET = "raw-token-never-shown"
DM_TEXT = "my salary is 12345"


def vote_make(*, tool="jira_transition_issue", status=Vote.Status.OPEN, ago=0, **fields) -> Vote:
    """A vote as ``apps.votes.services.vote_open`` leaves it (majority of three voters)."""
    values = {
        "agent": Agent.objects.get(slug="nox"),
        "tool": tool,
        "risk": "write",
        "arguments": {"key": "PAY-1", "status": "Done", "token": "••••"},
        "arguments_raw": json.dumps({"key": "PAY-1", "status": "Done", "token": RAW_SECRET}),
        "requested_by": "U0ALICE",
        "status": status,
        "rule": {"rule": "majority", "voters": VOTERS, "weights": {}, "quorum": 0},
        "deadline": timezone.now() + timedelta(minutes=30),
        "team_id": "T0ACME",
        "channel_id": "C0VOTES01",
        "closed_at": None if status == Vote.Status.OPEN else timezone.now(),
    }
    values.update(fields)
    vote = Vote.objects.create(**values)
    if ago:
        Vote.objects.filter(pk=vote.pk).update(created_at=timezone.now() - timedelta(minutes=ago))
    return vote


def ballot_make(vote, voter, choice, *, advisory=False, reason="", history=None) -> Ballot:
    at = timezone.now().isoformat()
    return Ballot.objects.create(
        vote=vote,
        voter=voter,
        choice=choice,
        advisory=advisory,
        reason=reason,
        history=history or [{"choice": choice, "at": at}],
    )


def executed_vote() -> Vote:
    vote = vote_make(status=Vote.Status.EXECUTED, tool="jira_create_issue")
    ballot_make(vote, "U0ALICE", "approve")
    ballot_make(vote, "U0BOB", "approve")
    VoteExecution.objects.create(
        vote=vote,
        status=VoteExecution.Status.DONE,
        check_summary="policy re-read: passed",
        summary="Created PAY-7",
        finished_at=timezone.now(),
    )
    return vote


def row_of(page: str, vote: Vote) -> str:
    return re.search(rf'<tr id="vote-{vote.pk}".*?</tr>', page, re.S).group(0)


def direct_conversation() -> Conversation:
    return Conversation.objects.create(
        agent=Agent.objects.get(slug="nox"),
        team_id="T0ACME",
        channel_id="D0DIRECT1",
        channel_type="im",
        thread_ts="1700000000.000100",
        started_by="U0ALICE",
    )


def test_the_list_shows_open_votes_first_with_their_tally_arguments_and_advice(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        older_open = vote_make(ago=20)
        ballot_make(older_open, "U0BOB", "approve")
        ballot_make(older_open, "atlas", "reject", advisory=True, reason="PAY-1 still has errors")
        newer_closed = executed_vote()
    tenant_browser(client, tenant_a)

    response = client.get("/votes/")

    assert response.status_code == 200
    page = response.content.decode()
    order = re.findall(r'<tr id="vote-(\d+)"', page)
    assert order == [str(older_open.pk), str(newer_closed.pk)]  # open first, though older
    row = row_of(page, older_open)
    assert "Move Jira tickets to another status" in row and "jira_transition_issue" in row
    assert "key: PAY-1" in row and "token: ••••" in row
    assert "Approve 1 of 2 needed · Reject 0 (of 3)" in row
    assert "ATLAS" in row and "PAY-1 still has errors" in row
    assert "simple majority" in row and "U0ALICE" in row and "NOX" in row
    assert "open for votes" in row
    closed = row_of(page, newer_closed)
    assert "Create Jira tickets" in closed and "executed" in closed
    assert "done" in closed and "Created PAY-7" in closed
    assert RAW_SECRET not in page


def test_the_list_filters_by_status_and_a_bad_status_is_a_400(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        still_open = vote_make()
        executed = executed_vote()
    tenant_browser(client, tenant_a)

    page = client.get("/votes/?status=executed").content.decode()
    bad = client.get("/votes/?status=maybe")

    assert f'id="vote-{executed.pk}"' in page and f'id="vote-{still_open.pk}"' not in page
    assert bad.status_code == 400


def test_the_detail_shows_every_ballot_with_its_changes_and_the_execution(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        vote = executed_vote()
        changed = ballot_make(
            vote,
            "U0CAROL",
            "approve",
            history=[
                {"choice": "reject", "at": "2026-01-05T10:00:00+00:00"},
                {"choice": "approve", "at": "2026-01-05T10:02:00+00:00"},
            ],
        )
        ballot_make(vote, "cirrus", "approve", advisory=True, reason="low risk, tested")
    tenant_browser(client, tenant_a)

    response = client.get(f"/votes/{vote.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Vote #{vote.pk}: Create Jira tickets" in page
    assert page.count('<tr id="ballot-') == 4
    carol = re.search(rf'<tr id="ballot-{changed.pk}".*?</tr>', page, re.S).group(0)
    assert re.search(r"reject.*2026-01-05T10:00:00.*approve.*2026-01-05T10:02:00", carol, re.S)
    assert "CIRRUS" in page and "low risk, tested" in page and "Advisory only" in page
    assert "Created PAY-7" in page and "policy re-read: passed" in page
    assert "key" in page and "PAY-1" in page and RAW_SECRET not in page


def test_a_vote_asked_in_a_direct_message_shows_its_tool_and_status_only(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        vote = vote_make(
            conversation=direct_conversation(),
            channel_id="D0DIRECT1",
            arguments={"summary": DM_TEXT},
            status=Vote.Status.EXECUTED,
        )
        ballot_make(vote, "atlas", "approve", advisory=True, reason=f"yes: {DM_TEXT}")
        VoteExecution.objects.create(
            vote=vote, status=VoteExecution.Status.DONE, summary=f"Created: {DM_TEXT}"
        )
    tenant_browser(client, tenant_a)

    listing = client.get("/votes/").content.decode()
    detail = client.get(f"/votes/{vote.pk}/").content.decode()

    for page in (listing, detail):
        assert "12345" not in page
        assert "Private — asked in a direct message" in page
        assert "Move Jira tickets to another status" in page and "executed" in page


def test_a_person_who_may_only_view_votes_reads_the_pages(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        vote = vote_make()
    tenant_browser(client, tenant_a, superuser=False, permissions=("view_vote",))

    assert client.get("/votes/").status_code == 200
    assert client.get(f"/votes/{vote.pk}/").status_code == 200
    assert client.post("/votes/").status_code == 405


def test_a_person_without_the_permission_is_refused(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        vote = vote_make()
    tenant_browser(client, tenant_a, superuser=False)

    assert client.get("/votes/").status_code == 403
    assert client.get(f"/votes/{vote.pk}/").status_code == 403


def test_company_as_pages_never_show_company_bs_votes(client, tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        own = vote_make(tool="jira_add_comment", arguments={"comment": "a's own"})
    with schema_context(tenant_b.schema_name):
        theirs = vote_make(arguments={"key": "only-in-company-b"})
        while theirs.pk == own.pk:  # each schema numbers its own: an id A has no vote with
            theirs = vote_make(arguments={"key": "only-in-company-b"})
    tenant_browser(client, tenant_a)

    page = client.get("/votes/").content.decode()

    assert f'id="vote-{own.pk}"' in page and "a&#x27;s own" in page
    assert "only-in-company-b" not in page
    assert client.get(f"/votes/{theirs.pk}/").status_code == 404


def test_a_login_on_company_a_opens_nothing_on_company_bs_host(client, tenant_a, tenant_b):
    tenant_browser(client, tenant_a, set_host=False)

    response = client.get("/votes/", HTTP_HOST=tenant_b.get_primary_domain().domain)

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        vote = vote_make()
    client.defaults["HTTP_HOST"] = tenant_a.get_primary_domain().domain

    for path in ("/votes/", f"/votes/{vote.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_unknown_vote_is_a_404(client, tenant_a):
    tenant_browser(client, tenant_a)

    assert client.get("/votes/999999/").status_code == 404
