import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from apps.agents.models import Agent
from apps.tenants.models import Domain, Tenant
from apps.tenants.services import TenantValidationError, tenant_create
from tests.factories import unique_schema_name


def test_add_tenant_creates_schema_domain_and_starter_agents(db, capsys):
    schema = unique_schema_name()

    call_command("add_tenant", schema, "--name", "Acme Corp", "--domain", "acme.example.com")

    tenant = Tenant.objects.get(schema_name=schema)
    assert tenant.name == "Acme Corp"
    assert schema_exists(schema)
    assert Domain.objects.get(tenant=tenant).domain == "acme.example.com"
    with schema_context(schema):
        assert set(Agent.objects.values_list("slug", flat=True)) == {"nox", "atlas", "cirrus"}
    assert f"Tenant '{schema}' created." in capsys.readouterr().out


def test_add_tenant_twice_is_idempotent_and_updates_the_name(db, capsys):
    schema = unique_schema_name()
    call_command("add_tenant", schema, "--name", "Acme")

    call_command("add_tenant", schema, "--name", "Acme Corporation")

    assert Tenant.objects.filter(schema_name=schema).count() == 1
    assert Tenant.objects.get(schema_name=schema).name == "Acme Corporation"
    assert Domain.objects.filter(tenant__schema_name=schema).count() == 1
    with schema_context(schema):
        assert Agent.objects.count() == 3
    assert "already exists" in capsys.readouterr().out


def test_add_tenant_default_domain_is_schema_under_the_suffix(db):
    schema = unique_schema_name()
    tenant = tenant_create(schema_name=schema, name="X").tenant
    assert tenant.get_primary_domain().domain == f"{schema.replace('_', '-')}.localhost"


@pytest.mark.parametrize(
    "bad_schema", ["Bad Name!", "public", "pg_catalog", "1abc", "a", "x" * 64, "acme;drop"]
)
def test_invalid_schema_names_are_refused_before_anything_is_written(db, bad_schema):
    tenants_before = Tenant.objects.count()
    with pytest.raises(TenantValidationError):
        tenant_create(schema_name=bad_schema, name="Bad")
    assert Tenant.objects.count() == tenants_before


def test_a_domain_owned_by_another_tenant_is_refused(tenant_a):
    domain = tenant_a.get_primary_domain().domain
    with pytest.raises(TenantValidationError, match="already belongs"):
        tenant_create(schema_name=unique_schema_name(), name="Thief", domain=domain)


@pytest.mark.django_db(transaction=True)
def test_add_tenant_bad_name_exits_non_zero_with_one_line_and_changes_nothing(manage_py):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace")
        schemas_before = cursor.fetchone()[0]
    tenants_before = Tenant.objects.count()

    result = manage_py("add_tenant", "Bad Name!", "--name", "Bad")

    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.stderr
    assert "invalid schema name 'Bad Name!'" in error_lines[0]
    assert Tenant.objects.count() == tenants_before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace")
        assert cursor.fetchone()[0] == schemas_before
