"""Roles on the product's pages: a member reads the agents' settings and is refused a change
(403); an admin changes them."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.agents.models import Agent
from tests.apps.accounts.conftest import browser_of, person_make

NOX_SETTINGS = {
    "enabled": "on",
    "model": "qwen2.5:7b",
    "temperature": "0.3",
    "context_size": "16384",
    "persona": "You are NOX.",
}


def _nox_model(tenant) -> str:
    with schema_context(tenant.schema_name):
        return Agent.objects.get(slug="nox").model


def test_a_member_reads_the_agents_but_gets_a_403_on_a_change(client, tenant_a):
    member = person_make(tenant_a, "mia@a.test", role=Role.MEMBER)
    client = browser_of(client, tenant_a, member)

    page = client.get("/agents/")
    response = client.post("/agents/nox/", {**NOX_SETTINGS, "model": "hacked"})

    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert response.status_code == 403
    assert _nox_model(tenant_a) != "hacked"


def test_an_admin_changes_an_agent(client, tenant_a):
    admin = person_make(tenant_a, "adam@a.test", role=Role.ADMIN)
    client = browser_of(client, tenant_a, admin)

    response = client.post("/agents/nox/", NOX_SETTINGS)

    assert response.status_code == 302
    assert _nox_model(tenant_a) == "qwen2.5:7b"
