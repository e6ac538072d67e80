"""The tenant's knowledge page: staff with the document permissions upload documents from the
browser; a worker reads them, and the page shows how that went."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.knowledge.models import Document
from apps.knowledge.tasks import document_index_task

RUNBOOK = b"# DNS runbook\n\n## Flush\n\nRun `resolvectl flush-caches`.\n"


def _browser_of(client, tenant, *, permissions=("view", "add"), is_superuser=False):
    """``client`` logged in on ``tenant``'s domain as a staff user with these permissions on
    documents."""
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.create_user(
            "admin", password="pw-1234567", is_staff=True, is_superuser=is_superuser
        )
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="knowledge",
                codename__in=[f"{action}_document" for action in permissions],
            )
        )
        client.force_login(user)  # users and sessions live in the tenant's schema
    client.defaults["HTTP_HOST"] = tenant.get_primary_domain().domain
    return client


@pytest.fixture
def staff_client(client, tenant_a):
    return _browser_of(client, tenant_a)


def _worker_reads(tenant, key: str) -> None:
    with schema_context(tenant.schema_name):
        document_id = Document.objects.get(key=key).pk
    document_index_task.apply(
        kwargs={"document_id": document_id, "schema_name": tenant.schema_name}
    ).get()


def test_a_staff_user_uploads_a_runbook_and_sees_it_listed(staff_client, tenant_a):
    upload = SimpleUploadedFile("dns.md", RUNBOOK)

    response = staff_client.post("/knowledge/", {"file": upload}, follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "dns.md was added; it is being indexed." in page
    assert "waiting to be read" in page
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(key="dns.md").status == Document.Status.QUEUED

    _worker_reads(tenant_a, "dns.md")

    page = staff_client.get("/knowledge/").content.decode()
    assert "DNS runbook" in page
    assert "being indexed" in page


def test_a_file_the_worker_cannot_read_is_listed_as_failed_with_the_reason(staff_client, tenant_a):
    upload = SimpleUploadedFile("broken.pdf", b"%PDF-1.7 garbage")
    assert staff_client.post("/knowledge/", {"file": upload}).status_code == 302

    _worker_reads(tenant_a, "broken.pdf")

    page = staff_client.get("/knowledge/").content.decode()
    assert "failed: not a readable PDF" in page
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(key="broken.pdf").status == Document.Status.FAILED


def test_an_unsupported_file_is_refused_with_the_reason_and_nothing_is_stored(
    staff_client, tenant_a
):
    upload = SimpleUploadedFile("diagram.png", b"\x89PNG\r\n\x1a\n")

    response = staff_client.post("/knowledge/", {"file": upload})

    assert response.status_code == 400
    assert "unsupported file type .png" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.filter(key="diagram.png").exists()


def test_staff_without_the_view_permission_get_403(client, tenant_a):
    browser = _browser_of(client, tenant_a, permissions=())

    assert browser.get("/knowledge/").status_code == 403
    response = browser.post("/knowledge/", {"file": SimpleUploadedFile("dns.md", RUNBOOK)})

    assert response.status_code == 403
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.filter(key="dns.md").exists()


def test_staff_who_may_only_view_see_the_list_without_the_form_and_cannot_upload(client, tenant_a):
    browser = _browser_of(client, tenant_a, permissions=("view",))

    page = browser.get("/knowledge/")
    response = browser.post("/knowledge/", {"file": SimpleUploadedFile("dns.md", RUNBOOK)})

    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' not in page.content.decode()
    assert response.status_code == 403
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.filter(key="dns.md").exists()


def test_a_superuser_needs_no_explicit_permission(client, tenant_a):
    browser = _browser_of(client, tenant_a, permissions=(), is_superuser=True)

    response = browser.post("/knowledge/", {"file": SimpleUploadedFile("dns.md", RUNBOOK)})

    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert Document.objects.filter(key="dns.md").exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a):
    response = client.get("/knowledge/", HTTP_HOST=tenant_a.get_primary_domain().domain)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_document_has_a_page_with_its_chunks_in_order(staff_client, tenant_a, ollama_double):
    from apps.knowledge.services import document_embed, document_ingest

    with schema_context(tenant_a.schema_name):
        document_ingest(key="dns.md", name="dns.md", data=RUNBOOK, source="upload")
        document = Document.objects.get(key="dns.md")
        document_embed(document)

    listing = staff_client.get("/knowledge/").content.decode()
    page = staff_client.get(f"/knowledge/{document.pk}/")

    assert f'href="/knowledge/{document.pk}/"' in listing
    assert page.status_code == 200
    assert "DNS runbook" in page.content.decode() and "resolvectl flush-caches" in page.text
    assert staff_client.get("/knowledge/999999/").status_code == 404


def test_a_document_page_needs_the_view_permission(client, tenant_a):
    from apps.knowledge.services import document_ingest

    with schema_context(tenant_a.schema_name):
        document_ingest(key="dns.md", name="dns.md", data=RUNBOOK, source="upload")
        document = Document.objects.get(key="dns.md")

    response = _browser_of(client, tenant_a, permissions=()).get(f"/knowledge/{document.pk}/")

    assert response.status_code == 403
