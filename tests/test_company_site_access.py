"""Who sees what on a company's site, checked over every page rather than page by page: the
pages are crawled link by link as the company's owner, then

- with the same login, every one of them on another company's host leads to the login page,
  and nothing the other company holds (a question, a document, a tool call) appears on any
  page of the first;
- a member (read-only role) reaches the pages but finds no form that changes anything, and
  every change the site offers is refused to them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.accounts.services import role_assign
from apps.agents.models import Agent
from tests.crawling import crawl, main_content
from tests.factories import (
    DocumentFactory,
    MessageFactory,
    SlackWorkspaceFactory,
    ToolCallRecordFactory,
    tenant_browser,
)

SECRET_OF_B = "zebra-quokka-4471"
# Open to anyone by design: the API's documentation (it describes the API, holds no data).
PUBLIC_BY_DESIGN = ("/api/v1/docs/", "/api/v1/redoc/", "/api/v1/schema/")

# Every change the site offers (POST), with what a request needs to reach its check.
CHANGES = [
    ("/agents/nox/", {"enabled": "on", "model": "hacked", "temperature": "0.1"}),
    ("/setup/agents/", {"agent-nox": "on"}),
    ("/setup/slack/", {"bot_token": "xoxb-1-2-abc"}),
    ("/setup/jira/", {"url": "https://jira.example.com", "email": "a@b.c", "api_token": "x"}),
    ("/knowledge/", {}),
    ("/knowledge/{document}/delete/", {}),
    ("/knowledge/{document}/reindex/", {}),
    ("/team/invite/", {"email": "eve@acme.test", "role": "admin"}),
    ("/team/{owner}/role/", {"role": "member"}),
    ("/team/{owner}/active/", {"active": ""}),
]


def activity_make(tenant, marker: str) -> int:
    """A question, a document and a tool call holding ``marker``; the document's id."""
    with schema_context(tenant.schema_name):
        question = MessageFactory(text=f"why is {marker} down?")
        ToolCallRecordFactory(question=question, summary=f"probed {marker}")
        return DocumentFactory(title=f"Runbook {marker}").pk


@pytest.fixture
def two_companies(tenant_a, tenant_b):
    SlackWorkspaceFactory(tenant=tenant_a)
    activity_make(tenant_a, "own-company-data")
    activity_make(tenant_b, SECRET_OF_B)
    return tenant_a, tenant_b


def test_a_login_on_one_company_opens_no_page_of_another_and_shows_none_of_its_data(
    client, two_companies
):
    tenant_a, tenant_b = two_companies
    browser = tenant_browser(client, tenant_a)
    pages = crawl(browser, ["/", "/setup/"], skip=("/admin/",), max_pages=150)
    assert len(pages) > 25 and any("own-company-data" in body for body in pages.values())

    for path, body in pages.items():
        assert SECRET_OF_B not in body, path
        if path.startswith(PUBLIC_BY_DESIGN):
            continue
        other = browser.get(path, HTTP_HOST=tenant_b.get_primary_domain().domain)
        assert other.status_code == 302 and other["Location"].startswith("/login/"), path


def test_a_member_reads_every_page_but_can_change_nothing(client, two_companies):
    tenant_a, _tenant_b = two_companies
    with schema_context(tenant_a.schema_name):
        owner = get_user_model().objects.create_superuser("olga", "olga@a.test", "pw-123456")
        member = get_user_model().objects.create_user("max", "max@a.test", "pw-123456")
        role_assign(member, Role.MEMBER)
        document = DocumentFactory().pk
    client.defaults["HTTP_HOST"] = tenant_a.get_primary_domain().domain
    with schema_context(tenant_a.schema_name):
        client.force_login(member)

    pages = crawl(client, ["/", "/setup/"], skip=("/admin/",), max_pages=150)
    assert {"/", "/conversations/", "/knowledge/", "/actions/", "/metrics/", "/team/"} <= set(pages)
    for path, body in pages.items():
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>", main_content(body), re.I)
        assert forms == [], (path, forms)

    for template, data in CHANGES:
        path = template.format(document=document, owner=owner.pk)
        response = client.post(path, data)
        assert response.status_code == 403, (path, response.status_code)
    with schema_context(tenant_a.schema_name):
        assert Agent.objects.get(slug="nox").model != "hacked"
        owner.refresh_from_db()
        assert owner.is_superuser and owner.is_active
