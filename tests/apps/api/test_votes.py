"""``/api/v1/votes/``: the votes on tool calls, read only, with their ballots and execution;
a vote asked in a direct message without what it quotes; the encrypted arguments never; a
read-only key reads them; another company's key sees none and gets a problem for one."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.conversations.models import Conversation
from apps.votes.models import Ballot, Vote
from tests.apps.api.conftest import key_client, key_make
from tests.apps.api.problems import problem_of
from tests.apps.votes.test_pages import RAW_SECRET, ballot_make, vote_make
from tests.factories import ConversationFactory


def votes_make(tenant) -> dict[str, int]:
    with schema_context(tenant.schema_name):
        channel = vote_make(conversation=ConversationFactory())
        ballot_make(channel, "U0BOB", Ballot.Choice.APPROVE)
        ballot_make(channel, "atlas", Ballot.Choice.REJECT, advisory=True, reason="PAY-1 is open")
        direct = vote_make(
            conversation=ConversationFactory(channel_id="D0SECRET", channel_type="im"),
            status=Vote.Status.REJECTED,
        )
        ballot_make(direct, "atlas", Ballot.Choice.REJECT, advisory=True, reason="private why")
        return {"channel": channel.pk, "direct": direct.pk}


def test_votes_are_listed_with_ballots_and_filtered(tenant_a, key_a):
    ids = votes_make(tenant_a)

    listed = key_a.get("/api/v1/votes/")
    open_only = key_a.get("/api/v1/votes/", {"status": "open"}).json()["results"]
    one = key_a.get(f"/api/v1/votes/{ids['channel']}/").json()

    assert listed.status_code == 200 and RAW_SECRET not in listed.content.decode()
    assert {vote["id"] for vote in listed.json()["results"]} == set(ids.values())
    assert [vote["id"] for vote in open_only] == [ids["channel"]]
    assert one["tool"] == "jira_transition_issue" and one["arguments"]["key"] == "PAY-1"
    assert {(b["voter"], b["choice"], b["advisory"]) for b in one["ballots"]} == {
        ("U0BOB", "approve", False),
        ("atlas", "reject", True),
    }
    assert one["execution"] is None and one["private"] is False


def test_a_vote_asked_in_a_direct_message_comes_without_what_it_quotes(tenant_a, key_a):
    ids = votes_make(tenant_a)

    vote = key_a.get(f"/api/v1/votes/{ids['direct']}/").json()

    assert vote["private"] is True and vote["arguments"] is None
    assert [ballot["reason"] for ballot in vote["ballots"]] == [None]
    assert vote["status"] == "rejected"


def test_votes_are_read_only_and_a_read_only_key_reads_them(tenant_a, key_a, read_only_key_a):
    ids = votes_make(tenant_a)

    assert read_only_key_a.get("/api/v1/votes/").status_code == 200
    refused = key_a.delete(f"/api/v1/votes/{ids['channel']}/")
    assert problem_of(refused, 405)
    with schema_context(tenant_a.schema_name):
        assert Vote.objects.filter(pk=ids["channel"]).exists()


def test_company_b_sees_none_of_company_as_votes(tenant_a, tenant_b, key_a):
    ids = votes_make(tenant_a)
    key_b = key_client(tenant_b, key_make(tenant_b))

    assert key_b.get("/api/v1/votes/").json()["results"] == []
    assert problem_of(key_b.get(f"/api/v1/votes/{ids['channel']}/"), 404)
    with schema_context(tenant_b.schema_name):
        assert not Conversation.objects.exists()
