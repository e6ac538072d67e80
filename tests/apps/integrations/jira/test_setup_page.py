"""The company's "Connect Jira" page: the live check of connect_jira from a form, the token
never rendered back, one plain reason on failure, nothing stored then."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.integrations.jira.models import JiraConnection
from tests.factories import tenant_browser

URL = "/setup/jira/"


@pytest.fixture
def admin_client(client, tenant_a):
    return tenant_browser(client, tenant_a)


def form(double, **overrides):
    return {
        "url": double.url,
        "email": double.email,
        "api_token": double.api_token,
        "project_key": "PAY",
        **overrides,
    }


def test_a_good_account_connects_and_the_token_is_never_shown(admin_client, tenant_a, jira_double):
    response = admin_client.post(URL, form(jira_double))

    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert JiraConnection.objects.get().api_token == jira_double.api_token
    page = admin_client.get(URL).content.decode()
    assert "Jira is connected." in page and jira_double.url in page
    assert jira_double.api_token not in page


def test_a_required_field_not_mapped_is_named(admin_client, jira_double):
    jira_double.require_field("customfield_10042", "Team", allowed=["Payments"])

    page = admin_client.post(URL, form(jira_double), follow=True).content.decode()

    assert "Jira requires the field “Team”" in page


@pytest.mark.parametrize(
    ("overrides", "status"),
    [({"api_token": "wrong-token"}, 400), ({"url": "not a url"}, 400), ({"project_key": "x"}, 400)],
)
def test_a_bad_connection_says_why_and_stores_nothing(
    admin_client, tenant_a, jira_double, overrides, status
):
    response = admin_client.post(URL, form(jira_double, **overrides))

    assert response.status_code == status
    assert "wrong-token" not in response.content.decode()
    assert jira_double.api_token not in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not JiraConnection.objects.exists()
