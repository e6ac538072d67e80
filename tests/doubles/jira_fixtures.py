"""Pytest fixtures for the Jira REST protocol double."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from apps.integrations.jira.services import jira_connect
from tests.doubles.jira import JiraDouble


@pytest.fixture
def jira_double(settings) -> Iterator[JiraDouble]:
    """A fresh Jira Cloud double for one test (project PAY: Task, Bug, Incident).

    ``settings.JIRA_URL`` / ``JIRA_EMAIL`` / ``JIRA_API_TOKEN`` / ``JIRA_PROJECT`` (the
    defaults of ``connect_jira``) point at it, with its valid credentials."""
    double = JiraDouble().start()
    settings.JIRA_URL = double.url
    settings.JIRA_EMAIL = double.email
    settings.JIRA_API_TOKEN = double.api_token
    settings.JIRA_PROJECT = "PAY"
    settings.JIRA_TIMEOUT_S = 5.0
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def jira_tenant(tenant_a, jira_double):
    """``tenant_a`` with its Jira connected to ``jira_double`` (project PAY, issue type Task),
    and the database connection left in its schema."""
    connection.set_tenant(tenant_a)
    jira_connect(
        url=jira_double.url,
        email=jira_double.email,
        api_token=jira_double.api_token,
        project_key="PAY",
    )
    return tenant_a
