"""The company's agents page: administrators change an agent's settings (checked: a bad value
is a 400 that says why and changes nothing); staff without the permission read only."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from tests.factories import tenant_browser

URL = "/agents/"


def client_for(client, tenant, *, can_change: bool):
    permissions = ("change_agent",) if can_change else ()
    return tenant_browser(client, tenant, superuser=False, permissions=permissions)


def settings_of(**overrides):
    return {
        "enabled": "on",
        "model": "qwen2.5:7b",
        "temperature": "0.4",
        "context_size": "16384",
        "persona": "You are NOX, terse.",
        **overrides,
    }


def nox(tenant) -> Agent:
    with schema_context(tenant.schema_name):
        return Agent.objects.get(slug="nox")


def test_an_administrator_changes_an_agent(client, tenant_a):
    client = client_for(client, tenant_a, can_change=True)

    response = client.post(f"{URL}nox/", settings_of())

    assert response.status_code == 302
    agent = nox(tenant_a)
    assert (agent.model, agent.temperature, agent.context_size) == ("qwen2.5:7b", 0.4, 16384)
    assert agent.persona == "You are NOX, terse."
    assert "NOX is saved." in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("field", "value"), [("temperature", "3"), ("context_size", "512"), ("model", "")]
)
def test_a_bad_value_is_a_400_and_changes_nothing(client, tenant_a, field, value):
    before = nox(tenant_a)

    response = client_for(client, tenant_a, can_change=True).post(
        f"{URL}nox/", settings_of(**{field: value})
    )

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    after = nox(tenant_a)
    assert (after.model, after.temperature, after.context_size) == (
        before.model,
        before.temperature,
        before.context_size,
    )


def test_staff_without_the_permission_read_but_cannot_change(client, tenant_a):
    client = client_for(client, tenant_a, can_change=False)

    page = client.get(URL)
    response = client.post(f"{URL}nox/", settings_of(model="hacked"))

    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert response.status_code == 403
    assert nox(tenant_a).model != "hacked"


def test_an_unknown_agent_is_a_404(client, tenant_a):
    response = client_for(client, tenant_a, can_change=True).post(f"{URL}ghost/", settings_of())

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/agents/", "/setup/slack/", "/setup/jira/"])
def test_a_login_on_one_company_opens_nothing_of_another(client, tenant_a, tenant_b, path):
    client = client_for(client, tenant_a, can_change=True)
    assert client.get(path).status_code == 200  # its own page

    other = client.get(path, HTTP_HOST=tenant_b.get_primary_domain().domain)

    assert other.status_code == 302 and other["Location"].startswith("/login/")
