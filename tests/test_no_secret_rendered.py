"""No secret is ever rendered back: every page a company's owner can reach on its own site
(dashboard, set-up, admin: list, add and change pages of every model) and every page of the
operators' admin is crawled, link by link, with a Slack workspace, Jira and the Slack app's
secrets configured; none of the secrets appears in any of them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from tests.crawling import crawl
from tests.factories import SlackWorkspaceFactory, tenant_browser

SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
CLIENT_SECRET = "c9f0f895fb98ab9159f51fd0297e236d"


@pytest.fixture
def secrets_configured(settings):
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_CLIENT_ID = "1111.2222"
    settings.SLACK_CLIENT_SECRET = CLIENT_SECRET


def test_no_page_of_a_company_or_of_the_operators_renders_a_secret(
    client, secrets_configured, jira_tenant, jira_double
):
    workspace = SlackWorkspaceFactory(tenant=jira_tenant, team_name="Acme")
    secrets = {
        "bot token": workspace.bot_token,
        "Jira token": jira_double.api_token,
        "signing secret": SIGNING_SECRET,
        "client secret": CLIENT_SECRET,
    }
    company = tenant_browser(client, jira_tenant)

    company_pages = crawl(company, ["/", "/setup/", "/admin/"])
    company.logout()
    with schema_context("public"):
        operator = get_user_model().objects.create_superuser("op", "op@example.com", "pw-123456")
        client.defaults.pop("HTTP_HOST", None)
        client.force_login(operator)
    operator_pages = crawl(client, ["/admin/"], HTTP_HOST="localhost")

    # The crawl reached the pages that hold the connections, so the absence below means
    # something: the Slack and Jira set-up pages, and the admin change page of each.
    assert {"/setup/slack/", "/setup/jira/"} <= set(company_pages)
    assert any("/admin/jira_integration/jiraconnection/1/change/" in path for path in company_pages)
    assert any("/admin/workspaces/slackworkspace/" in path for path in operator_pages)
    assert len(company_pages) > 20 and len(operator_pages) > 5
    for pages in (company_pages, operator_pages):
        for path, body in pages.items():
            for name, secret in secrets.items():
                assert secret not in body, f"{name} rendered on {path}"
