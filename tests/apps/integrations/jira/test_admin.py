import pytest
from django_tenants.utils import schema_context

from apps.integrations.jira.models import JiraConnection
from tests.factories import tenant_browser


@pytest.fixture
def tenant_admin_client(client, jira_tenant):
    return tenant_browser(client, jira_tenant)


def _connection(tenant) -> JiraConnection:
    with schema_context(tenant.schema_name):
        return JiraConnection.objects.get()


def test_the_tenant_admin_never_shows_the_token(tenant_admin_client, jira_tenant, jira_double):
    jira = _connection(jira_tenant)

    listing = tenant_admin_client.get("/admin/jira_integration/jiraconnection/")
    change = tenant_admin_client.get(f"/admin/jira_integration/jiraconnection/{jira.pk}/change/")

    assert listing.status_code == change.status_code == 200
    assert jira_double.url in listing.content.decode()
    for page in (listing, change):
        assert jira_double.api_token not in page.content.decode()


def test_saving_with_a_blank_token_keeps_it_and_a_new_one_replaces_it(
    tenant_admin_client, jira_tenant, jira_double
):
    jira = _connection(jira_tenant)
    url = f"/admin/jira_integration/jiraconnection/{jira.pk}/change/"
    form = {
        "url": jira.url,
        "email": jira.email,
        "project_key": "PAY",
        "issue_type": "Bug",
        "field_values": "{}",
        "field_names": "{}",
    }

    assert tenant_admin_client.post(url, {**form, "new_api_token": ""}).status_code == 302
    assert _connection(jira_tenant).api_token == jira_double.api_token
    assert _connection(jira_tenant).issue_type == "Bug"

    assert tenant_admin_client.post(url, {**form, "new_api_token": "ATATT-new"}).status_code == 302
    assert _connection(jira_tenant).api_token == "ATATT-new"
