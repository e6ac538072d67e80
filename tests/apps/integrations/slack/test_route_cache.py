"""The Slack team -> tenant route is cached per process, and forgotten when it changes."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.integrations.slack.selectors import slack_team_route_cache_clear, slack_team_route_cached
from apps.integrations.slack.services import slack_workspace_disconnect
from tests.factories import SlackWorkspaceFactory


@pytest.fixture(autouse=True)
def empty_route_cache():
    slack_team_route_cache_clear()
    yield
    slack_team_route_cache_clear()


def test_a_cached_route_costs_no_query(tenant_a, django_assert_num_queries):
    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    with CaptureQueriesContext(connection) as reads:
        first = slack_team_route_cached(team_id=workspace.team_id)
    assert any("workspaces_slackworkspace" in query["sql"] for query in reads.captured_queries)
    with django_assert_num_queries(0):
        second = slack_team_route_cached(team_id=workspace.team_id)
    assert first == second
    assert (first.schema_name, first.bot_user_id) == (tenant_a.schema_name, workspace.bot_user_id)


def test_an_unknown_team_is_not_cached_so_a_new_install_routes_at_once(tenant_a):
    assert slack_team_route_cached(team_id="T0NOTYET01") is None

    SlackWorkspaceFactory(tenant=tenant_a, team_id="T0NOTYET01")

    assert slack_team_route_cached(team_id="T0NOTYET01").schema_name == tenant_a.schema_name


def test_a_disconnected_workspace_is_forgotten_at_once(tenant_a):
    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    assert slack_team_route_cached(team_id=workspace.team_id) is not None

    slack_workspace_disconnect(team_id=workspace.team_id, reason="test")

    assert slack_team_route_cached(team_id=workspace.team_id) is None


def test_a_workspace_moved_to_another_tenant_is_routed_there(tenant_a, tenant_b):
    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    assert slack_team_route_cached(team_id=workspace.team_id).schema_name == tenant_a.schema_name

    workspace.tenant = tenant_b
    workspace.save()

    assert slack_team_route_cached(team_id=workspace.team_id).schema_name == tenant_b.schema_name


def workspace_reads(callable_) -> int:
    with CaptureQueriesContext(connection) as reads:
        callable_()
    return sum("workspaces_slackworkspace" in query["sql"] for query in reads.captured_queries)


def test_a_zero_ttl_asks_the_database_every_time(tenant_a, settings):
    settings.SLACK_ROUTE_CACHE_S = 0
    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    slack_team_route_cached(team_id=workspace.team_id)

    assert workspace_reads(lambda: slack_team_route_cached(team_id=workspace.team_id)) == 1


def test_an_expired_entry_is_read_again(tenant_a, settings):
    settings.SLACK_ROUTE_CACHE_S = 0.01
    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    slack_team_route_cached(team_id=workspace.team_id)
    time.sleep(0.02)

    assert workspace_reads(lambda: slack_team_route_cached(team_id=workspace.team_id)) == 1
