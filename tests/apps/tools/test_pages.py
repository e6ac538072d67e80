"""The actions audit page of a company's site: every tool call its agents made, filterable,
arguments as the audit stored them (secrets masked), and the incidents waiting for the
tracker; read-only; one company never sees another's."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.tools.executor import arguments_masked
from apps.tools.models import Incident, ToolCallRecord
from tests.crawling import main_content
from tests.factories import (
    ConversationFactory,
    ToolCallRecordFactory,
    starter_agent,
    tenant_browser,
)

VIEW_ONLY = ("view_toolcallrecord",)
CALL_ROW = re.compile(r'<tr id="call-\d+">')


@pytest.fixture
def browser(client, tenant_a):
    return tenant_browser(client, tenant_a, superuser=False, permissions=VIEW_ONLY)


def test_the_audit_shows_who_asked_which_agent_tool_arguments_result_duration_and_status(
    browser, tenant_a
):
    with schema_context(tenant_a.schema_name):
        call = ToolCallRecordFactory(
            requested_by="U0MARIE",
            agent=starter_agent("atlas"),
            tool="http_probe",
            arguments={"url": "https://status.example.com/health"},
            summary="200 OK in 87 ms",
            duration_ms=87,
            status=ToolCallRecord.Status.DONE,
        )

    response = browser.get("/actions/")

    assert response.status_code == 200
    row = re.search(rf'<tr id="call-{call.pk}">.*?</tr>', response.text, re.S).group(0)
    for shown in ("U0MARIE", "ATLAS", "http_probe", "status.example.com/health", "200 OK in 87 ms"):
        assert shown.lower() in row.lower()
    assert "87 ms" in row and "done" in row


def test_arguments_are_shown_as_the_audit_masked_them(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        ToolCallRecordFactory(
            arguments=arguments_masked({"url": "https://x.example", "api_token": "s3cr3t-v4lue"})
        )

    page = browser.get("/actions/").text

    assert "s3cr3t-v4lue" not in page
    assert "api_token" in page and "https://x.example" in page


def test_what_an_agent_did_in_a_direct_message_shows_no_words_of_it(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        me = get_user_model().objects.get(username="ana").pk
        dm = ConversationFactory(channel_type="im", channel_id="D0DM")
        in_dm = ToolCallRecordFactory(
            conversation=dm,
            tool="jira_create_issue",
            arguments={"summary": "my manager harasses me"},
            summary="ticket HR-12 created for the harassment report",
        )
        Incident.objects.create(
            tool_call=in_dm,
            summary="harassment report",
            idempotency_key="dm-1",
            status=Incident.Status.WAITING,
        )
        mine = ConversationFactory(team_id="web", started_by=f"web-{me}", channel_id="W0ME")
        ToolCallRecordFactory(conversation=mine, arguments={"url": "https://mine.example"})
        theirs = ConversationFactory(team_id="web", started_by=f"web-{me + 1}", channel_id="W0X")
        ToolCallRecordFactory(conversation=theirs, arguments={"url": "https://theirs.example"})

    page = browser.get("/actions/").text

    row = re.search(rf'<tr id="call-{in_dm.pk}">.*?</tr>', page, re.S).group(0)
    assert "jira_create_issue" in row and "Private — asked in a direct message" in row
    assert "harass" not in page
    assert "https://mine.example" in page and "https://theirs.example" not in page


def test_the_audit_is_newest_first_and_paginated(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        for n in range(27):
            ToolCallRecordFactory(summary=f"call number {n:02d}")

    first = browser.get("/actions/").text
    second = browser.get("/actions/?page=2").text

    assert len(CALL_ROW.findall(first)) == 25 and len(CALL_ROW.findall(second)) == 2
    assert first.index("call number 26") < first.index("call number 25")
    assert "call number 00" in second and "call number 00" not in first


def test_the_audit_filters_by_agent_tool_and_status(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        ToolCallRecordFactory(agent=starter_agent("nox"), tool="http_probe", summary="nox probe")
        ToolCallRecordFactory(
            agent=starter_agent("atlas"), tool="http_probe", summary="atlas probe"
        )
        ToolCallRecordFactory(
            tool="jira_create_issue", status=ToolCallRecord.Status.FAILED, summary="jira failed"
        )

    by_agent = browser.get("/actions/?agent=atlas").text
    by_tool = browser.get("/actions/?tool=jira_create_issue").text
    by_status = browser.get("/actions/?status=failed").text

    assert "atlas probe" in by_agent and "nox probe" not in by_agent
    assert (
        "jira failed" in by_tool
        and "probe" not in by_tool.split("Tool calls")[1].split("</form>")[1]
    )
    assert "jira failed" in by_status and "nox probe" not in by_status


def test_bad_filters_are_a_400(browser):
    assert browser.get("/actions/?status=exploded").status_code == 400
    assert browser.get("/actions/?tool=never_called").status_code == 400
    assert browser.get("/actions/?agent=nobody").status_code == 400


def test_incidents_waiting_for_the_tracker_are_listed(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        call = ToolCallRecordFactory(tool="jira_create_issue", status="waiting")
        Incident.objects.create(
            tool_call=call,
            summary="Payments API down",
            idempotency_key="acme-call-1",
            status=Incident.Status.WAITING,
            missing_fields=["Team"],
            attempts=3,
        )
        done = ToolCallRecordFactory(tool="jira_create_issue")
        Incident.objects.create(
            tool_call=done,
            summary="Ticketed long ago",
            idempotency_key="acme-call-2",
            status=Incident.Status.TICKETED,
        )

    page = browser.get("/actions/").text

    assert "Incidents waiting for the tracker" in page
    assert "Payments API down" in page and "Team" in page
    assert "Ticketed long ago" not in page


def test_the_page_is_read_only(browser, tenant_a):
    with schema_context(tenant_a.schema_name):
        ToolCallRecordFactory()

    page = browser.get("/actions/").text

    assert 'method="post"' not in main_content(page)
    assert browser.post("/actions/").status_code == 405


def test_people_without_the_view_permission_get_403(client, tenant_a):
    browser = tenant_browser(client, tenant_a, superuser=False, permissions=())

    assert browser.get("/actions/").status_code == 403


def test_a_company_never_sees_another_companys_actions(browser, tenant_a, tenant_b):
    with schema_context(tenant_b.schema_name):
        call = ToolCallRecordFactory(tool="bravo_tool", summary="bravo-secret result")
        Incident.objects.create(
            tool_call=call,
            summary="bravo incident",
            idempotency_key="bravo-1",
            status=Incident.Status.WAITING,
        )
    with schema_context(tenant_a.schema_name):
        ToolCallRecordFactory(summary="alpha result")

    page = browser.get("/actions/").text

    assert "alpha result" in page
    assert "bravo" not in page
    assert browser.get("/actions/?tool=bravo_tool").status_code == 400
