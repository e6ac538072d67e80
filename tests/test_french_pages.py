"""The public site, the set-up steps and the dashboard of a company render in French with no
English left: every page a company's owner reaches (crawled link by link) is rendered in
English and in French, and a text that is the same in both is an English leftover, unless it
is a word French shares with English or a name (the company's own content is marked
``translate="no"`` in the templates, HTML's marker for it, and not compared)."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.models import Message
from apps.votes.models import Ballot, Vote, VoteExecution
from tests.crawling import crawl, visible_texts
from tests.factories import (
    AnswerFeedbackFactory,
    MessageFactory,
    SlackWorkspaceFactory,
    ToolCallRecordFactory,
    tenant_browser,
)

# The same in both languages: names, and words French spells as English does.
SAME_IN_FRENCH = {
    # names
    "Jamono",
    "NOX",
    "ATLAS",
    "CIRRUS",
    "Slack",
    "Jira",
    "English",
    "Français",
    "français",
    "Ollama",
    "ReDoc",
    "Swagger",
    "OpenAI",
    "PostgreSQL",
    "pgvector",
    "Markdown",
    "HTML",
    "PDF",
    "DNS",
    "TLS",
    "API",
    # French words written as in English
    "Conversations",
    "Actions",
    "Votes",
    "Documents",
    "Agents",
    "Agent",
    "Sources",
    "Source",
    "Administration",
    "Incidents",
    "Description",
    "Messages",
    "Message",
    "Questions",
    "Question",
    "Date",
    "Total",
    "Type",
    "Version",
    "Notes",
    "Options",
    "Action",
    "Permissions",
    "Instructions",
    "Navigation",
    "Minutes",
    "Secondes",
    "Tokens",
    "Contexte",
    "Statut",
    "Chunks",
    "Article",
    "Latence",
    "Page",
    "Arguments",
    "Conversation",
    "Vote",
}
# Not words: numbers, dates, times, measures, identifiers, addresses, punctuation.
NOT_PROSE = re.compile(
    r"^[\d.,]+ ?[a-zA-Zµ%]{0,3}$|^[\W\d_]*$|^[\w.+-]+@[\w.-]+$|^https?://\S+$"
    r"|^/[\w/.-]*$|^\S*[\d_:/.]\S*$|^[A-Z0-9_-]+$"
)


SAME_WORDS = {word.lower() for word in SAME_IN_FRENCH}
UNITS = {"s", "ms", "min", "h", "kib", "mib", "%"}


def shared_or_not_prose(word: str) -> bool:
    return word.lower() in SAME_WORDS or word.lower() in UNITS or bool(NOT_PROSE.match(word))


def leftovers(english: str, french: str) -> set[str]:
    same = visible_texts(english) & visible_texts(french)
    return {
        text
        for text in same
        if not NOT_PROSE.match(text) and not all(map(shared_or_not_prose, text.split()))
    }


def in_both_languages(client, path: str, **extra) -> tuple[str, str]:
    bodies = []
    for language in ("en", "fr"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(path, **extra)
        assert response.status_code == 200, (path, response.status_code)
        bodies.append(response.content.decode())
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    return bodies[0], bodies[1]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/signup/"])
def test_the_public_pages_have_no_english_left_in_french(client, path):
    english, french = in_both_languages(client, path, HTTP_HOST="localhost")

    assert 'lang="fr"' in french
    assert leftovers(english, french) == set()


def company_vote_make(question) -> None:
    """An executed vote on a call of the thread, with a changed ballot and an advice."""
    vote = Vote.objects.create(
        agent=Agent.objects.get(slug="nox"),
        conversation=question.conversation,
        question=question,
        tool="jira_create_issue",
        risk="write",
        arguments={"summary": "Panne de l’API"},
        requested_by="U0ALICE",
        status=Vote.Status.EXECUTED,
        rule={"rule": "majority", "voters": ["U0ALICE", "U0BOB"], "quorum": 1},
        deadline=timezone.now(),
        closed_at=timezone.now(),
    )
    history = [
        {"choice": "reject", "at": "2026-01-05T10:00:00+00:00"},
        {"choice": "approve", "at": "2026-01-05T10:02:00+00:00"},
    ]
    Ballot.objects.create(vote=vote, voter="U0ALICE", choice="approve", history=history)
    Ballot.objects.create(
        vote=vote, voter="atlas", choice="approve", advisory=True, reason="Risque faible"
    )
    VoteExecution.objects.create(
        vote=vote,
        status=VoteExecution.Status.DONE,
        summary="PAY-7 créé",
        finished_at=vote.closed_at,
    )


def company_activity_make(tenant) -> None:
    """A thread with a question, a cited answer with 👍, a tool call and a vote, so the pages
    that show them render their rows and charts."""
    with schema_context(tenant.schema_name):
        question = MessageFactory(text="Comment revenir en arrière ?")
        answer = MessageFactory(
            conversation=question.conversation,
            role=Message.Role.ASSISTANT,
            in_reply_to=question,
            text="Redéployez la version précédente [1].",
            answer_latency_ms=1800,
            sources=[{"n": 1, "title": "Rollback", "heading": "Rollback", "cited": True}],
            answered_at=timezone.now(),
        )
        AnswerFeedbackFactory(answer=answer)
        ToolCallRecordFactory(question=question)
        company_vote_make(question)


def test_every_page_of_a_company_has_no_english_left_in_french(client, jira_tenant):
    SlackWorkspaceFactory(tenant=jira_tenant, team_name="Acme")
    company_activity_make(jira_tenant)
    client = tenant_browser(client, jira_tenant)
    paths = sorted(crawl(client, ["/", "/setup/"], skip=("/admin/",), max_pages=120))
    assert {
        "/",
        "/setup/",
        "/setup/agents/",
        "/setup/done/",
        "/setup/slack/",
        "/setup/jira/",
        "/chat/nox/",
        "/conversations/",
        "/knowledge/",
        "/actions/",
        "/metrics/",
        "/votes/",
        "/agents/",
        "/team/",
    } <= set(paths)
    assert any(path.startswith("/conversations/") and path[-2].isdigit() for path in paths)
    assert any(path.startswith("/votes/") and path[-2].isdigit() for path in paths)

    found = {}
    for path in paths:
        english, french = in_both_languages(client, path)
        if left := leftovers(english, french):
            found[path] = sorted(left)

    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


@pytest.mark.parametrize(
    "path", ["/login/", "/password-reset/", "/password-reset/done/", "/reset/done/"]
)
def test_the_pages_before_logging_in_have_no_english_left_in_french(client, tenant_a, path):
    host = tenant_a.get_primary_domain().domain

    english, french = in_both_languages(client, path, HTTP_HOST=host)

    assert leftovers(english, french) == set()


def test_a_company_in_french_gets_french_pages_until_someone_picks_another_language(
    client, tenant_a
):
    tenant_a.language = "fr"
    tenant_a.save(update_fields=["language"])
    client = tenant_browser(client, tenant_a)

    default = client.get("/setup/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    chosen = client.get("/setup/").content.decode()

    assert 'lang="fr"' in default and "Mettez en route votre espace" in default
    assert 'lang="en"' in chosen and "Set up your workspace" in chosen
