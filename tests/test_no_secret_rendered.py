"""No secret is ever rendered back: every page a company's owner can reach on its own site
(dashboard, set-up, admin: list, add and change pages of every model) and every page of the
operators' admin is crawled, link by link, with a Slack workspace, Jira and the Slack app's
secrets configured; none of the secrets appears in any of them."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from tests.factories import SlackWorkspaceFactory, tenant_browser

SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
CLIENT_SECRET = "c9f0f895fb98ab9159f51fd0297e236d"
# Links a crawl must not follow: they change state on GET in no page of ours, but logging out
# would end the crawl early, and the language switch needs a POST anyway.
SKIPPED = ("/logout", "/admin/logout", "/i18n/")
MAX_PAGES = 400


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.links.append(href)


def crawl(client, start: list[str], **extra) -> dict[str, str]:
    """GET every same-site page reachable from ``start``; {path: body} of those answering 200."""
    seen: set[str] = set()
    pages: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or path.startswith(SKIPPED):
            continue
        seen.add(path)
        response = client.get(path, **extra)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        pages[path] = body
        parser = _Links()
        parser.feed(body)
        for href in parser.links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if "/delete/" in parts.path or parts.path.startswith("/static/"):
                continue
            queue.append(href)
    return pages


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
