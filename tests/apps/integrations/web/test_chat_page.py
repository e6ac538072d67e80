"""The page where a person asks an agent (``/chat/<agent>/``): for the company's staff only,
its script vendored (no inline JavaScript), its socket named after the agent."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.agents.models import Agent
from tests.factories import tenant_browser


def test_the_chat_page_of_nox_opens_its_socket_with_the_vendored_script(client, tenant_a):
    browser = tenant_browser(client, tenant_a, superuser=False)

    response = browser.get("/chat/nox/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Ask NOX" in page
    assert 'data-socket="/ws/chat/nox/"' in page
    assert 'src="/static/jamono/chat.js"' in page
    assert "<script>" not in page  # the CSP forbids inline scripts
    assert 'href="/chat/atlas/"' in page  # the other agents, one click away


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(client, tenant_a):
    client.defaults["HTTP_HOST"] = tenant_a.get_primary_domain().domain

    response = client.get("/chat/nox/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_login_of_one_company_does_not_open_the_chat_of_another(client, tenant_a, tenant_b):
    browser = tenant_browser(client, tenant_a, set_host=False)

    response = browser.get("/chat/nox/", HTTP_HOST=tenant_b.get_primary_domain().domain)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_unknown_agent_is_a_404(client, tenant_a):
    assert tenant_browser(client, tenant_a).get("/chat/nobody/").status_code == 404


def test_a_disabled_agent_says_so_without_a_chat(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        Agent.objects.filter(slug="cirrus").update(enabled=False)

    response = tenant_browser(client, tenant_a).get("/chat/cirrus/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "CIRRUS is disabled" in page
    assert "data-socket" not in page and "chat.js" not in page


def test_the_page_takes_no_post(client, tenant_a):
    assert tenant_browser(client, tenant_a).post("/chat/nox/").status_code == 405
