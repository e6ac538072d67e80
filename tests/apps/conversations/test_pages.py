"""The conversations and metrics pages of a company's site: what its people asked and how the
agents answered, searchable; direct messages stay private to their person; one company never
sees another's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.conversations.models import AnswerFeedback, Message
from tests.crawling import main_content
from tests.factories import (
    AnswerFeedbackFactory,
    ConversationFactory,
    MessageFactory,
    ToolCallRecordFactory,
    starter_agent,
    tenant_browser,
)

VIEW_ONLY = ("view_conversation",)


def _thread(
    question="how do I roll back the payments deploy?",
    answer="Run the rollback job [1].",
    *,
    agent="nox",
    latency_ms=2000,
    answered_at=None,
    **conversation_fields,
):
    """A conversation with one question and its answer (in the current schema)."""
    conversation = ConversationFactory(agent=starter_agent(agent), **conversation_fields)
    asked = MessageFactory(conversation=conversation, text=question)
    answered = MessageFactory(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        in_reply_to=asked,
        text=answer,
        model="llama3.1:8b",
        answer_latency_ms=latency_ms,
        answered_at=answered_at or timezone.now(),
        sources=[
            {"n": 1, "title": "Deploy runbook", "heading": "Deploy › Rollback", "document_id": 7}
        ],
    )
    return conversation, answered


def _user_pk(tenant) -> int:
    with schema_context(tenant.schema_name):
        return get_user_model().objects.get(username="ana").pk


@pytest.fixture
def browser(client, tenant_a):
    return tenant_browser(client, tenant_a, superuser=False, permissions=VIEW_ONLY)


# The list


def test_the_list_shows_each_conversation_with_its_agent_channel_person_and_last_status(
    browser, tenant_a
):
    with schema_context(tenant_a.schema_name):
        conversation, _answer = _thread(channel_id="C0DEPLOYS", started_by="U0MARIE")
        MessageFactory(conversation=conversation, text="and then?", status=Message.Status.RECEIVED)

    response = browser.get("/conversations/")

    assert response.status_code == 200
    row = re.search(rf'href="/conversations/{conversation.pk}/".*?</tr>', response.text, re.S)
    assert row is not None
    assert "NOX" in row.group(0) or "Nox" in row.group(0)
    assert "C0DEPLOYS" in row.group(0) and "U0MARIE" in row.group(0)
    assert "<td>3</td>" in row.group(0)
    assert "received" in row.group(0)


def test_the_list_is_newest_first_and_paginated_by_25(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        conversations = [ConversationFactory(channel_id=f"C{n:08d}") for n in range(30)]

    first = browser.get("/conversations/").text
    second = browser.get("/conversations/?page=2").text

    rows = re.compile(r'href="/conversations/\d+/"')
    assert len(rows.findall(first)) == 25
    assert first.index("C00000029") < first.index("C00000028")
    assert "C00000000" not in first and "C00000000" in second
    assert len(rows.findall(second)) == 5
    assert 'rel="prev"' in second and len(conversations) == 30


def test_the_list_filters_by_agent(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        _thread(agent="nox", channel_id="C0NOXONLY")
        _thread(agent="atlas", channel_id="C0ATLASONLY")

    page = browser.get("/conversations/?agent=atlas").text

    assert "C0ATLASONLY" in page and "C0NOXONLY" not in page


def test_an_unknown_agent_or_an_overlong_search_is_a_400(browser, tenant_a):
    assert browser.get("/conversations/?agent=nobody").status_code == 400
    assert browser.get("/conversations/?q=" + "x" * 201).status_code == 400
    assert browser.get("/conversations/?page=banana").status_code == 200


def test_search_finds_conversations_by_the_words_of_their_messages(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        _thread("pods stuck in ImagePullBackOff", channel_id="C0PODS")
        _thread("how do I flush the DNS cache?", channel_id="C0DNS")

    page = browser.get("/conversations/?q=imagepullbackoff").text
    stemmed = browser.get("/conversations/?q=flushing").text
    odd = browser.get('/conversations/?q="unbalanced -( & |').status_code

    assert "C0PODS" in page and "C0DNS" not in page
    assert "C0DNS" in stemmed and "C0PODS" not in stemmed
    assert odd == 200


# One conversation


def test_a_conversation_page_shows_questions_answers_and_what_they_cost(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        conversation, answer = _thread(latency_ms=4321)
        AnswerFeedbackFactory(answer=answer, value=AnswerFeedback.Value.UP)
        AnswerFeedbackFactory(answer=answer, value=AnswerFeedback.Value.UP)
        AnswerFeedbackFactory(answer=answer, value=AnswerFeedback.Value.DOWN)

    page = browser.get(f"/conversations/{conversation.pk}/").text

    assert "how do I roll back the payments deploy?" in page
    assert "Run the rollback job [1]." in page
    assert "llama3.1:8b" in page and "4321 ms" in page
    assert "answered" in page
    assert "👍 2" in page and "👎 1" in page
    assert 'href="/knowledge/7/"' in page and "Deploy › Rollback" in page
    assert 'class="notice"' not in page  # the thread is not mistaken for the site's notices


def test_an_unknown_conversation_is_a_404(browser):
    assert browser.get("/conversations/999999/").status_code == 404


# Privacy of direct messages


def test_a_direct_message_shows_its_metadata_only_never_its_text(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        dm, _answer = _thread(
            "my salary slip is wrong", "Ask HR privately.", channel_type="im", channel_id="D0DM"
        )

    listing = browser.get("/conversations/").text
    page = browser.get(f"/conversations/{dm.pk}/").text

    assert "D0DM" in listing and "Direct message — private to the person" in listing
    assert "Direct message — private to the person" in page and "2 messages" in page
    for text in (listing, page):
        assert "salary" not in text and "Ask HR privately." not in text


def test_a_direct_message_is_never_found_by_search(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        _thread("salary question", channel_type="im", channel_id="D0DM")
        _thread("salary bands for engineers", channel_id="C0PUBLIC")

    page = browser.get("/conversations/?q=salary").text

    assert "C0PUBLIC" in page
    assert "D0DM" not in page


def test_my_own_browser_chat_is_shown_and_searchable_but_not_someone_elses(browser, tenant_a):
    me = _user_pk(tenant_a)
    with schema_context(tenant_a.schema_name):
        mine, _ = _thread(
            "zebra crossing runbook", team_id="web", channel_id="W0MINE", started_by=f"web-{me}"
        )
        theirs, _ = _thread(
            "zebra secrets of someone else",
            team_id="web",
            channel_id="W0THEIRS",
            started_by=f"web-{me + 1}",
        )

    found = browser.get("/conversations/?q=zebra").text
    my_page = browser.get(f"/conversations/{mine.pk}/").text
    their_page = browser.get(f"/conversations/{theirs.pk}/").text

    assert "W0MINE" in found and "W0THEIRS" not in found
    assert "zebra crossing runbook" in my_page
    assert "zebra secrets" not in their_page
    assert "Direct message — private to the person" in their_page


# Permissions


def test_people_without_the_view_permission_get_403(client, tenant_a):
    browser = tenant_browser(client, tenant_a, superuser=False, permissions=())

    assert browser.get("/conversations/").status_code == 403
    assert browser.get("/metrics/").status_code == 403


def test_the_pages_are_read_only_no_form_posts_and_a_post_is_refused(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        conversation, _ = _thread()

    page = browser.get(f"/conversations/{conversation.pk}/").text

    assert 'method="post"' not in main_content(page)
    assert browser.post("/conversations/").status_code == 405
    assert browser.post(f"/conversations/{conversation.pk}/").status_code == 405
    assert browser.post("/metrics/").status_code == 405


def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a):
    host = tenant_a.get_primary_domain().domain
    for path in ("/conversations/", "/metrics/"):
        response = client.get(path, HTTP_HOST=host)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


# Isolation


def test_a_company_never_sees_another_companys_conversations(browser, tenant_a, tenant_b):
    with schema_context(tenant_b.schema_name):
        for n in range(3):
            b_conversation, _ = _thread(f"bravo-secret-{n} outage", channel_id=f"C0BRAVO{n}")
    with schema_context(tenant_a.schema_name):
        ours, _ = _thread("alpha question", channel_id="C0ALPHA")
    assert b_conversation.pk > ours.pk  # ids are per schema: one A has not used

    listing = browser.get("/conversations/").text
    search = browser.get("/conversations/?q=outage").text

    assert "C0ALPHA" in listing
    for page in (listing, search):
        assert "C0BRAVO" not in page and "bravo-secret" not in page
    assert browser.get(f"/conversations/{b_conversation.pk}/").status_code == 404


# Metrics


def _answer_on(days_ago: int, latency_ms: int, *, agent="nox", feedback=()):
    _conversation, answer = _thread(
        agent=agent,
        latency_ms=latency_ms,
        answered_at=timezone.now() - timedelta(days=days_ago),
    )
    for value in feedback:
        AnswerFeedbackFactory(answer=answer, value=value)
    return answer


def _day(days_ago: int) -> str:
    return (timezone.localdate() - timedelta(days=days_ago)).strftime("%m-%d")


def test_metrics_show_answers_median_time_votes_and_actions_as_charts(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        _answer_on(0, 1000, feedback=["up", "up"])
        _answer_on(0, 3000, feedback=["down"])
        _answer_on(0, 8000)
        _answer_on(2, 500)
        ToolCallRecordFactory(tool="http_probe")
        ToolCallRecordFactory(tool="http_probe")
        ToolCallRecordFactory(tool="jira_create_issue")

    response = browser.get("/metrics/")
    page = response.text

    assert response.status_code == 200
    assert page.count("<svg") == 4
    assert f"<title>{_day(0)}: 3</title>" in page  # answers today
    assert f"<title>{_day(2)}: 1</title>" in page
    assert f"<title>{_day(0)}: 3 s</title>" in page  # median of 1, 3 and 8 seconds
    assert f"<title>{_day(0)}: 66.7 %</title>" in page  # 2 of 3 votes were 👍
    assert "<title>http_probe: 2</title>" in page and "<title>jira_create_issue: 1</title>" in page
    assert "👍 2 · 👎 1" in page
    assert '<th scope="row">http_probe</th><td>2</td>' in page  # the table fallback
    assert page.count("<rect") >= 30  # a bar slot for each of the 30 days


def test_metrics_cover_the_chosen_window(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        _answer_on(40, 1000)

    month = browser.get("/metrics/").text
    quarter = browser.get("/metrics/?days=90").text
    week = browser.get("/metrics/?days=7").text

    assert '<option value="30" selected>' in month
    assert f"<title>{_day(40)}: 1</title>" not in month
    assert f"<title>{_day(40)}: 1</title>" in quarter
    assert len(re.findall(r"<title>\d\d-\d\d: \d+</title></rect>", week)) == 7
    assert browser.get("/metrics/?days=13").status_code == 400
    assert browser.get("/metrics/?agent=nobody").status_code == 400


def test_metrics_filter_by_agent(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        _answer_on(0, 1000, agent="nox")
        _answer_on(0, 1000, agent="atlas")
        _answer_on(0, 1000, agent="atlas")
        ToolCallRecordFactory(tool="nox_only_tool", agent=starter_agent("nox"))

    page = browser.get("/metrics/?agent=atlas").text

    assert f"<title>{_day(0)}: 2</title>" in page
    assert "nox_only_tool" not in page


def test_metrics_count_only_this_companys_answers_and_actions(browser, tenant_a, tenant_b):
    with schema_context(tenant_b.schema_name):
        for _ in range(5):
            _answer_on(0, 9000)
        ToolCallRecordFactory(tool="bravo_only_tool")
    with schema_context(tenant_a.schema_name):
        _answer_on(0, 1000)

    page = browser.get("/metrics/").text

    assert f"<title>{_day(0)}: 1</title>" in page
    assert "bravo_only_tool" not in page and "9 s" not in page
