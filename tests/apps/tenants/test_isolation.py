"""Tenant A's rows are invisible from tenant B: through the ORM, raw SQL and Celery."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.agents.tasks import agent_roster_task
from apps.core.tenant_tasks import TenantTaskError
from jamono.celery import app as celery_app
from tests.factories import tenant_make

MARKER = "only-in-tenant-a"


def _add_marker_agent(schema_name: str) -> None:
    with schema_context(schema_name):
        Agent.objects.create(
            slug=MARKER,
            name="Secret",
            title="A's private agent",
            persona="p",
            model="m",
            temperature=0.1,
            command_prefix="secret",
        )


def test_orm_in_tenant_b_never_sees_tenant_a_rows(tenant_a, tenant_b):
    _add_marker_agent(tenant_a.schema_name)

    with schema_context(tenant_b.schema_name):
        assert not Agent.objects.filter(slug=MARKER).exists()
        assert Agent.objects.count() == 3
    with schema_context(tenant_a.schema_name):
        assert Agent.objects.filter(slug=MARKER).exists()


def test_raw_sql_on_tenant_b_search_path_never_sees_tenant_a_rows(tenant_a, tenant_b):
    _add_marker_agent(tenant_a.schema_name)

    connection.set_tenant(tenant_b)
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert cursor.fetchone()[0].split(",")[0].strip() == tenant_b.schema_name
        cursor.execute("SELECT slug FROM agents_agent")
        slugs = {row[0] for row in cursor.fetchall()}
    assert MARKER not in slugs
    assert slugs == {"nox", "atlas", "cirrus"}


def test_public_schema_has_no_tenant_tables(tenant_a):
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.agents_agent')")
        assert cursor.fetchone()[0] is None


@pytest.fixture
def celery_worker_thread(transactional_db):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


def test_celery_task_for_tenant_b_never_reads_tenant_a_rows(celery_worker_thread):
    tenant_a = tenant_make(name="A")
    tenant_b = tenant_make(name="B")
    _add_marker_agent(tenant_a.schema_name)

    roster_b = agent_roster_task.apply_async(kwargs={"schema_name": tenant_b.schema_name})
    roster_a = agent_roster_task.apply_async(kwargs={"schema_name": tenant_a.schema_name})
    # B again after A ran in the same worker process: the schema must not stick.
    roster_b_again = agent_roster_task.apply_async(kwargs={"schema_name": tenant_b.schema_name})

    slugs_b = {agent["slug"] for agent in roster_b.get(timeout=30)}
    slugs_a = {agent["slug"] for agent in roster_a.get(timeout=30)}
    slugs_b_again = {agent["slug"] for agent in roster_b_again.get(timeout=30)}
    assert MARKER in slugs_a
    assert MARKER not in slugs_b
    assert slugs_b == slugs_b_again == {"nox", "atlas", "cirrus"}


def test_tenant_task_cannot_be_enqueued_without_a_schema():
    with pytest.raises(TenantTaskError, match="schema_name"):
        agent_roster_task.apply_async()


def test_tenant_task_arguments_are_checked_when_enqueued_not_when_run(tenant_a):
    # Relies on Celery's Task.__header__ (the task function's signature check).
    with pytest.raises(TypeError):
        agent_roster_task.apply_async(
            kwargs={"schema_name": tenant_a.schema_name, "no_such_argument": 1}
        )


def test_tenant_task_refuses_an_unknown_schema(db):
    with pytest.raises(TenantTaskError, match="no tenant"):
        agent_roster_task.apply(kwargs={"schema_name": "does_not_exist"}).get()
    assert connection.schema_name == "public"
