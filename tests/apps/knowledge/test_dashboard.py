"""The tenant's knowledge page: staff upload documents from the browser."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.knowledge.models import Document


@pytest.fixture
def staff_client(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        user = get_user_model().objects.create_user("admin", password="pw-1234567", is_staff=True)
        client.force_login(user)  # users and sessions live in the tenant's schema
    client.defaults["HTTP_HOST"] = tenant_a.get_primary_domain().domain
    return client


def test_a_staff_user_uploads_a_runbook_and_sees_it_listed(staff_client, tenant_a):
    upload = SimpleUploadedFile(
        "dns.md", b"# DNS runbook\n\n## Flush\n\nRun `resolvectl flush-caches`.\n"
    )

    response = staff_client.post("/knowledge/", {"file": upload}, follow=True)

    assert response.status_code == 200
    assert "dns.md was added; it is being indexed." in response.content.decode()
    assert "DNS runbook" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(key="dns.md").source == Document.Source.UPLOAD


def test_a_broken_upload_shows_why_and_stores_nothing(staff_client, tenant_a):
    upload = SimpleUploadedFile("broken.pdf", b"%PDF-1.7 garbage")

    response = staff_client.post("/knowledge/", {"file": upload})

    assert response.status_code == 400
    assert "not a readable PDF" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.filter(key="broken.pdf").exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a):
    response = client.get("/knowledge/", HTTP_HOST=tenant_a.get_primary_domain().domain)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
