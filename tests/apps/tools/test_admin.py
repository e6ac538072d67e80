"""The tenant admin's tool pages: the switches per agent, the read-only audit, incidents with
their retry, and the allow-list of hosts checks may reach (validated)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.tools.models import AgentTool, Incident, ProbeAllowedHost, ToolCallRecord
from tests.factories import tenant_browser


@pytest.fixture
def admin_client(client, tenant_a):
    return tenant_browser(client, tenant_a)


def test_every_agent_has_a_switch_for_each_tool_it_may_use(admin_client, tenant_a):
    page = admin_client.get("/admin/tools/agenttool/")

    assert page.status_code == 200
    with schema_context(tenant_a.schema_name):
        nox = Agent.objects.get(slug="nox")
        switches = dict(AgentTool.objects.filter(agent=nox).values_list("tool", "enabled"))
    assert switches["jira_create_issue"] is True  # in NOX's definition
    assert set(switches) >= {"http_probe", "dns_lookup", "postmortem_schedule"}
    assert admin_client.get("/admin/tools/agenttool/add/").status_code == 403


def test_the_audit_is_shown_and_cannot_be_changed(admin_client, tenant_a):
    with schema_context(tenant_a.schema_name):
        record = ToolCallRecord.objects.create(
            agent=Agent.objects.get(slug="nox"),
            tool="http_probe",
            risk="read",
            arguments={"url": "https://status.acme.test"},
            status=ToolCallRecord.Status.DONE,
            summary="Probed https://status.acme.test: 200 OK",
        )

    listing = admin_client.get("/admin/tools/toolcallrecord/")
    detail = admin_client.get(f"/admin/tools/toolcallrecord/{record.pk}/change/")
    change = admin_client.post(f"/admin/tools/toolcallrecord/{record.pk}/change/", {})
    delete = admin_client.post(f"/admin/tools/toolcallrecord/{record.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200 and "Probed https://status.acme.test" in listing.text
    assert detail.status_code == 200  # a read-only view
    assert change.status_code == delete.status_code == 403
    with schema_context(tenant_a.schema_name):
        assert ToolCallRecord.objects.filter(pk=record.pk).exists()


def test_incidents_are_listed(admin_client, tenant_a):
    with schema_context(tenant_a.schema_name):
        record = ToolCallRecord.objects.create(
            agent=Agent.objects.get(slug="nox"),
            tool="jira_create_issue",
            risk="write",
            status=ToolCallRecord.Status.WAITING,
        )
        Incident.objects.create(
            tool_call=record,
            summary="Payments API down",
            idempotency_key="acme-call-1",
            status=Incident.Status.WAITING,
            missing_fields=["Team"],
        )

    page = admin_client.get("/admin/tools/incident/")

    assert page.status_code == 200 and "Payments API down" in page.text


@pytest.mark.parametrize(
    ("pattern", "accepted"),
    [
        ("status.acme.test", True),
        ("*.acme.test", True),
        ("10.0.0.0/24", True),
        ("127.0.0.1:8080", True),
        ("*", False),
        ("0.0.0.0/0", False),
        ("http://x/", False),
    ],
)
def test_allow_list_entries_are_validated(admin_client, tenant_a, pattern, accepted):
    response = admin_client.post(
        "/admin/tools/probeallowedhost/add/", {"pattern": pattern, "note": ""}
    )

    assert (response.status_code == 302) is accepted
    with schema_context(tenant_a.schema_name):
        assert ProbeAllowedHost.objects.filter(pattern=pattern).exists() is accepted
