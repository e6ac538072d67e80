import pytest
from django_tenants.utils import schema_context

from apps.knowledge.models import Document


@pytest.fixture
def tenant_a(tenant_a):
    """Tenant A with an empty knowledge base (its starter packs removed), so a test sees only
    the documents it ingests itself."""
    with schema_context(tenant_a.schema_name):
        Document.objects.all().delete()
    return tenant_a
