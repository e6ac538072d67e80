import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.api.services import api_key_create
from apps.knowledge.models import Document


@pytest.fixture
def tenant_a(tenant_a):
    """Tenant A with an empty knowledge base (its starter packs removed), so a test sees only
    the documents it ingests itself."""
    with schema_context(tenant_a.schema_name):
        Document.objects.all().delete()
    return tenant_a


def key_make(tenant, *, name: str = "ci", read_only: bool = False) -> str:
    """A new API key of ``tenant`` (the key itself, as its script would hold it)."""
    with schema_context(tenant.schema_name):
        return api_key_create(name=name, read_only=read_only)[1]


def key_client(tenant, key: str) -> Client:
    """A client on ``tenant``'s host sending ``key``, as a script would (no session)."""
    return Client(HTTP_HOST=tenant.get_primary_domain().domain, HTTP_AUTHORIZATION=f"Api-Key {key}")


@pytest.fixture
def key_a(tenant_a) -> Client:
    return key_client(tenant_a, key_make(tenant_a))


@pytest.fixture
def read_only_key_a(tenant_a) -> Client:
    return key_client(tenant_a, key_make(tenant_a, name="bi", read_only=True))
