"""Every endpoint of ``/api/v1/`` with a key on its company's host; conversations, messages
and actions of direct messages without their text; metrics per agent per day; ETags; errors
as problems that say what to fix; and nothing of company A seen from company B's host."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.api.errors import problem_server_error
from apps.conversations.models import AnswerFeedback, Conversation, Message
from apps.knowledge.models import Chunk, Document
from apps.knowledge.tasks import document_index_task
from apps.tools.models import ToolCallRecord
from tests.apps.api.conftest import key_client, key_make
from tests.apps.api.problems import problem_of
from tests.factories import DocumentFactory, tenant_browser

DM_TEXT = "my salary review is next week, keep it quiet"
CHANNEL_TEXT = "how do I roll back payments-api?"
RUNBOOK = b"""# Payments rollback

Run `kubectl rollout undo deployment/payments-api` when QUOKKA-4417 pages.
"""


def _conversation(agent, *, channel_type: str, text: str, answer: str, n: int) -> Conversation:
    conversation = Conversation.objects.create(
        agent=agent,
        team_id="T1",
        channel_id=f"D{n}" if channel_type == "im" else f"C{n}",
        channel_type=channel_type,
        thread_ts=f"17000000{n}.0001",
        started_by="U1",
    )
    question = Message.objects.create(
        conversation=conversation,
        role=Message.Role.USER,
        status=Message.Status.ANSWERED,
        channel_id=conversation.channel_id,
        channel_type=channel_type,
        slack_ts=f"17000000{n}.0001",
        slack_user_id="U1",
        text=text,
    )
    reply = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.ANSWERED,
        channel_id=conversation.channel_id,
        channel_type=channel_type,
        in_reply_to=question,
        text=answer,
        answer_latency_ms=1000 * n,
        answered_at=timezone.now(),
    )
    AnswerFeedback.objects.create(answer=reply, slack_user_id="U1", value="up")
    ToolCallRecord.objects.create(
        agent=agent,
        conversation=conversation,
        question=question,
        tool="http_probe",
        risk="read",
        status=ToolCallRecord.Status.DONE,
        arguments={"url": f"https://status.example.com/{text[:10]}"},
        summary=f"Probed for: {text}",
    )
    return conversation


@pytest.fixture
def data_a(tenant_a):
    """In company A: a channel thread and a direct message with NOX, each with an answer, a
    👍 and a tool call; and one document."""
    with schema_context(tenant_a.schema_name):
        nox = Agent.objects.get(slug="nox")
        channel = _conversation(
            nox, channel_type="channel", text=CHANNEL_TEXT, answer="Run rollout undo.", n=1
        )
        direct = _conversation(
            nox, channel_type="im", text=DM_TEXT, answer="Noted, privately.", n=3
        )
        document = DocumentFactory(title="Payments runbook")
        return {
            "channel": channel.pk,
            "direct": direct.pk,
            "message": channel.messages.first().pk,
            "dm_message": direct.messages.first().pk,
            "action": ToolCallRecord.objects.get(conversation=channel).pk,
            "dm_action": ToolCallRecord.objects.get(conversation=direct).pk,
            "document": document.pk,
        }


def _read_urls(data: dict) -> list[str]:
    return [
        "/api/v1/agents/",
        "/api/v1/agents/nox/",
        "/api/v1/agents/nox/tools/",
        "/api/v1/agents/nox/tools/http_probe/",
        "/api/v1/tools/",
        "/api/v1/conversations/",
        f"/api/v1/conversations/{data['channel']}/",
        "/api/v1/messages/",
        f"/api/v1/messages/{data['message']}/",
        "/api/v1/knowledge/documents/",
        f"/api/v1/knowledge/documents/{data['document']}/",
        "/api/v1/knowledge/search/?q=rollback",
        "/api/v1/actions/",
        f"/api/v1/actions/{data['action']}/",
        "/api/v1/metrics/",
    ]


def test_every_read_endpoint_answers_a_key_on_its_host_and_refuses_it_elsewhere(
    tenant_a, tenant_b, data_a
):
    key = key_make(tenant_a)
    here, elsewhere = key_client(tenant_a, key), key_client(tenant_b, key)

    for url in _read_urls(data_a):
        response = here.get(url)
        assert response.status_code == 200, (url, response.content)
        assert response["Content-Type"] == "application/json", url
        problem_of(elsewhere.get(url), 401)


def test_agents_are_listed_and_their_settings_changed_within_their_limits(tenant_a, key_a):
    changed = key_a.patch(
        "/api/v1/agents/nox/",
        {"temperature": 0.3, "model": "llama3.2:3b", "enabled": False},
        content_type="application/json",
    )
    too_hot = key_a.patch(
        "/api/v1/agents/nox/", {"temperature": 5}, content_type="application/json"
    )
    renamed = key_a.patch("/api/v1/agents/nox/", {"slug": "x"}, content_type="application/json")

    assert changed.status_code == 200
    assert changed.json()["temperature"] == 0.3
    assert "temperature" in problem_of(too_hot, 400)["errors"]
    assert renamed.json()["slug"] == "nox"  # read-only fields are ignored
    with schema_context(tenant_a.schema_name):
        nox = Agent.objects.get(slug="nox")
        assert (nox.temperature, nox.model, nox.enabled) == (0.3, "llama3.2:3b", False)
    listed = key_a.get("/api/v1/agents/", {"enabled": "false"}).json()["results"]
    assert [agent["slug"] for agent in listed] == ["nox"]


def test_a_tool_is_switched_per_agent(tenant_a, key_a):
    off = key_a.put(
        "/api/v1/agents/nox/tools/http_probe/", {"enabled": False}, content_type="application/json"
    )
    tools = {row["tool"]: row["enabled"] for row in key_a.get("/api/v1/agents/nox/tools/").json()}
    unknown = key_a.put(
        "/api/v1/agents/nox/tools/rm_rf/", {"enabled": True}, content_type="application/json"
    )
    not_a_bool = key_a.put(
        "/api/v1/agents/nox/tools/http_probe/",
        {"enabled": "maybe"},
        content_type="application/json",
    )

    assert off.json() | {"enabled": False} == off.json()
    assert tools["http_probe"] is False
    problem_of(unknown, 404)
    assert list(problem_of(not_a_bool, 400)["errors"]) == ["enabled"]


def test_a_direct_message_is_listed_without_its_text_nor_found_by_it(data_a, key_a):
    direct = key_a.get(f"/api/v1/conversations/{data_a['direct']}/").json()
    dm_messages = key_a.get("/api/v1/messages/", {"conversation": data_a["direct"]}).json()
    channel_messages = key_a.get("/api/v1/messages/", {"conversation": data_a["channel"]}).json()
    dm_action = key_a.get(f"/api/v1/actions/{data_a['dm_action']}/").json()
    everything = b"".join(
        key_a.get(url).content
        for url in (
            "/api/v1/conversations/",
            "/api/v1/messages/",
            f"/api/v1/messages/{data_a['dm_message']}/",
            "/api/v1/actions/",
        )
    )

    assert direct["is_direct"] is True
    assert direct["message_count"] == 2
    assert {(m["text"], m["text_private"]) for m in dm_messages["results"]} == {(None, True)}
    assert {m["text"] for m in channel_messages["results"]} == {CHANNEL_TEXT, "Run rollout undo."}
    assert dm_action["private"] is True
    assert dm_action["arguments"] is None and dm_action["summary"] is None
    assert b"salary" not in everything
    assert key_a.get("/api/v1/messages/", {"q": "salary"}).json()["results"] == []
    assert key_a.get("/api/v1/conversations/", {"q": "salary"}).json()["results"] == []


def test_conversations_and_messages_are_searched_and_filtered(data_a, key_a):
    found = key_a.get("/api/v1/conversations/", {"q": "ROLL BACK"}).json()["results"]
    direct = key_a.get("/api/v1/conversations/", {"is_direct": "true"}).json()["results"]
    answers = key_a.get("/api/v1/messages/", {"role": "assistant", "q": "rollout"}).json()

    assert [c["id"] for c in found] == [data_a["channel"]]
    assert [c["id"] for c in direct] == [data_a["direct"]]
    assert [m["text"] for m in answers["results"]] == ["Run rollout undo."]


def test_actions_are_filtered_and_ordered(data_a, key_a):
    oldest_first = key_a.get("/api/v1/actions/", {"ordering": "created_at"}).json()["results"]
    failed = key_a.get("/api/v1/actions/", {"status": "failed"}).json()["results"]

    assert [a["id"] for a in oldest_first] == [data_a["action"], data_a["dm_action"]]
    assert oldest_first[0]["arguments"]["url"].startswith("https://status.example.com/")
    assert failed == []


def test_lists_come_in_cursor_pages(tenant_a, key_a):
    with schema_context(tenant_a.schema_name):
        for _ in range(3):
            DocumentFactory()

    first = key_a.get("/api/v1/knowledge/documents/", {"page_size": 2}).json()
    second = key_a.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]
    assert len(second["results"]) == 1
    assert second["next"] is None
    ids = [d["id"] for d in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)


def test_metrics_count_answers_times_actions_and_feedback_per_agent_per_day(data_a, key_a):
    response = key_a.get("/api/v1/metrics/", {"agent": "nox"})

    today = timezone.localdate().isoformat()
    assert response.json()["results"] == [
        {
            "agent": "nox",
            "date": today,
            "answers": 2,
            "median_answer_ms": 2000,
            "actions": {"http_probe": 2},
            "feedback_up": 2,
            "feedback_down": 0,
        }
    ]
    long_ago = (timezone.localdate() - timedelta(days=400)).isoformat()
    assert key_a.get("/api/v1/metrics/", {"until": long_ago}).json()["results"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-02-30"}, "since"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "since"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "since"),
        ({"agent": "nobody"}, "agent"),
    ],
)
def test_malformed_metrics_queries_are_400_naming_the_field(key_a, params, field):
    assert list(problem_of(key_a.get("/api/v1/metrics/", params), 400)["errors"]) == [field]


def test_a_read_is_answered_304_when_its_etag_is_sent_back(key_a):
    first = key_a.get("/api/v1/agents/nox/")
    again = key_a.get("/api/v1/agents/nox/", HTTP_IF_NONE_MATCH=first["ETag"])
    key_a.patch("/api/v1/agents/nox/", {"temperature": 0.9}, content_type="application/json")
    changed = key_a.get("/api/v1/agents/nox/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first["ETag"]
    assert "Authorization" in first["Vary"]
    assert "private" in first["Cache-Control"]
    assert again.status_code == 304
    assert again.content == b""
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


# Errors: each a problem that says what to fix ------------------------------------------------


def test_a_malformed_json_body_is_400_saying_so(key_a):
    response = key_a.generic(
        "PATCH", "/api/v1/agents/nox/", b'{"temperature": 0.5', content_type="application/json"
    )

    assert "JSON" in problem_of(response, 400)["detail"]


def test_an_unknown_id_is_404(key_a):
    for url in (
        "/api/v1/conversations/999999/",
        "/api/v1/messages/999999/",
        "/api/v1/actions/999999/",
        "/api/v1/knowledge/documents/999999/",
        "/api/v1/agents/nobody/",
        "/api/v1/agents/nobody/tools/",
    ):
        problem_of(key_a.get(url), 404)


def test_an_unknown_api_path_is_a_404_problem_pointing_to_the_docs(key_a):
    assert "/api/v1/docs/" in problem_of(key_a.get("/api/v1/nothing-here/"), 404)["detail"]


def test_a_wrong_content_type_is_415_naming_it(key_a):
    upload_as_json = key_a.post(
        "/api/v1/knowledge/documents/", {"file": "x"}, content_type="application/json"
    )
    settings_as_text = key_a.generic(
        "PATCH", "/api/v1/agents/nox/", b"temperature=1", content_type="text/plain"
    )

    assert "application/json" in problem_of(upload_as_json, 415)["detail"]
    assert "text/plain" in problem_of(settings_as_text, 415)["detail"]


def test_a_method_not_allowed_is_405(key_a):
    problem_of(key_a.delete("/api/v1/agents/nox/"), 405)


def test_a_too_large_upload_is_413_with_the_limit(settings, tenant_a, key_a):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 1024

    response = key_a.post(
        "/api/v1/knowledge/documents/", {"file": SimpleUploadedFile("big.md", b"x" * 2000)}
    )

    assert "1,024-byte limit" in problem_of(response, 413)["detail"]
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.filter(key="big.md").exists()


# Knowledge through a key: upload, find, delete; none of it seen from B -----------------------


def test_an_uploaded_document_is_found_then_deleted_with_its_chunks_unseen_from_b(
    tenant_a, tenant_b, key_a
):
    key_b = key_client(tenant_b, key_make(tenant_b))
    uploaded = key_a.post(
        "/api/v1/knowledge/documents/", {"file": SimpleUploadedFile("rollback.md", RUNBOOK)}
    ).json()
    document_index_task.apply(
        kwargs={"document_id": uploaded["id"], "schema_name": tenant_a.schema_name}
    ).get()

    hits = key_a.get("/api/v1/knowledge/search/", {"q": "QUOKKA-4417"}).json()["results"]
    hits_b = key_b.get("/api/v1/knowledge/search/", {"q": "QUOKKA-4417"}).json()["results"]
    listed_b = key_b.get("/api/v1/knowledge/documents/", {"page_size": 200}).json()["results"]
    assert [hit["document_key"] for hit in hits] == ["rollback.md"]
    assert hits_b == []
    assert "rollback.md" not in {document["key"] for document in listed_b}
    problem_of(key_b.get(f"/api/v1/knowledge/documents/{uploaded['id']}/"), 404)
    problem_of(key_b.delete(f"/api/v1/knowledge/documents/{uploaded['id']}/"), 404)

    assert key_a.delete(f"/api/v1/knowledge/documents/{uploaded['id']}/").status_code == 204

    with schema_context(tenant_a.schema_name):
        assert not Chunk.objects.filter(document_id=uploaded["id"]).exists()
    assert key_a.get("/api/v1/knowledge/search/", {"q": "QUOKKA-4417"}).json()["results"] == []


def test_company_b_sees_none_of_company_a_conversations_messages_or_actions(
    tenant_b, data_a, key_a
):
    key_b = key_client(tenant_b, key_make(tenant_b))

    for url in ("/api/v1/conversations/", "/api/v1/messages/", "/api/v1/actions/"):
        assert key_b.get(url).json()["results"] == [], url
    assert key_b.get("/api/v1/metrics/").json()["results"] == []
    problem_of(key_b.get(f"/api/v1/conversations/{data_a['channel']}/"), 404)
    problem_of(key_b.get(f"/api/v1/messages/{data_a['message']}/"), 404)
    problem_of(key_b.get(f"/api/v1/actions/{data_a['action']}/"), 404)


# People logged in on the company's site: their Django permissions ---------------------------


def test_a_person_reads_and_writes_what_their_permissions_allow(client, tenant_a, data_a):
    browser = tenant_browser(
        client, tenant_a, superuser=False, permissions=("view_agent", "view_conversation")
    )

    assert browser.get("/api/v1/agents/").status_code == 200
    assert browser.get("/api/v1/conversations/").status_code == 200
    problem_of(browser.get("/api/v1/actions/"), 403)
    problem_of(browser.get("/api/v1/messages/"), 403)
    response = browser.patch(
        "/api/v1/agents/nox/", {"enabled": False}, content_type="application/json"
    )
    problem_of(response, 403)
    with schema_context(tenant_a.schema_name):
        assert Agent.objects.get(slug="nox").enabled


def test_a_session_write_needs_its_csrf_token(tenant_a):
    browser = tenant_browser(Client(enforce_csrf_checks=True), tenant_a)

    response = browser.patch(
        "/api/v1/agents/nox/", {"enabled": False}, content_type="application/json"
    )

    assert "CSRF" in problem_of(response, 403)["detail"]


def test_a_django_error_under_api_is_a_problem_and_elsewhere_a_page(rf):
    crashed = problem_server_error(rf.get("/api/v1/agents/"))
    page = problem_server_error(rf.get("/admin/"))

    assert crashed.status_code == 500
    assert crashed["Content-Type"] == "application/problem+json"
    assert json.loads(crashed.content)["status"] == 500
    assert page["Content-Type"].startswith("text/html")


def test_a_nul_character_is_a_field_error_not_a_crash(key_a):
    # Found by the fuzzing: PostgreSQL refuses NUL in a query's text.
    upload = key_a.post(
        "/api/v1/knowledge/documents/",
        {"file": SimpleUploadedFile("a.md", b"# A\n"), "agent": "\x00"},
    )

    assert list(problem_of(upload, 400)["errors"]) == ["agent"]
    for url in ("/api/v1/conversations/", "/api/v1/actions/", "/api/v1/metrics/"):
        assert list(problem_of(key_a.get(url, {"agent": "no\x00x"}), 400)["errors"]) == ["agent"]


def test_a_date_and_time_postgresql_cannot_take_is_answered_not_crashed(key_a):
    # Found by the fuzzing: an offset beyond ±15:59 that Python accepts and PostgreSQL refuses.
    response = key_a.get("/api/v1/actions/", {"created_after": "0260-02-25T00:29:54-20:52"})

    assert response.status_code == 200


def test_a_group_direct_message_is_private_too(tenant_a, key_a):
    with schema_context(tenant_a.schema_name):
        group = _conversation(
            Agent.objects.get(slug="nox"), channel_type="mpim", text=DM_TEXT, answer="Ok.", n=5
        )

    listed = key_a.get("/api/v1/messages/", {"conversation": group.pk}).json()["results"]

    assert {message["text"] for message in listed} == {None}
    assert key_a.get(f"/api/v1/conversations/{group.pk}/").json()["is_direct"] is True
    assert key_a.get("/api/v1/messages/", {"q": "salary"}).json()["results"] == []
