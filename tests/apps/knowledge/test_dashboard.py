"""The tenant's knowledge page: staff with the document permissions upload documents from the
browser; a worker reads them, and the page shows how that went."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.knowledge.models import Document
from apps.knowledge.tasks import document_index_task
from tests.crawling import main_content

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


# Delete, re-index, and the rows that refresh themselves while a worker indexes them


def _ingested(tenant, key="dns.md"):
    """A document read from its stored file (live chunks, not yet embedded)."""
    from apps.knowledge.services import document_ingest

    with schema_context(tenant.schema_name):
        document_ingest(key=key, name=key, data=RUNBOOK, source="upload")
        return Document.objects.get(key=key)


def _chunks(document, *, embedded: int, total: int, live: bool = True) -> None:
    from django.conf import settings

    from apps.knowledge.models import Chunk

    Chunk.objects.bulk_create(
        Chunk(
            kind=Chunk.Kind.DOCUMENT,
            document=document,
            is_live=live,
            position=position,
            text=f"part {position}",
            embedding=[0.1] * settings.EMBEDDING_DIMENSIONS if position < embedded else None,
        )
        for position in range(total)
    )


def test_a_user_who_may_delete_deletes_a_document_with_its_chunks_and_file(client, tenant_a):
    from apps.knowledge.models import Chunk, DocumentFile

    document = _ingested(tenant_a)
    browser = _browser_of(client, tenant_a, permissions=("view", "delete"))

    listing = browser.get("/knowledge/").text
    response = browser.post(f"/knowledge/{document.pk}/delete/", follow=True)

    assert f'action="/knowledge/{document.pk}/delete/"' in listing
    assert f'action="/knowledge/{document.pk}/reindex/"' not in listing  # no change permission
    assert response.status_code == 200
    assert "DNS runbook was deleted." in response.text
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.filter(pk=document.pk).exists()
        assert not Chunk.objects.filter(document_id=document.pk).exists()
        assert not DocumentFile.objects.filter(document_id=document.pk).exists()
    assert browser.post(f"/knowledge/{document.pk}/delete/").status_code == 404


def test_a_user_who_may_change_reindexes_a_document_the_upload_worker_reads_again(
    client, tenant_a, django_capture_on_commit_callbacks
):
    document = _ingested(tenant_a)
    with schema_context(tenant_a.schema_name):
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.FAILED, error="took too long", failed_step="reading"
        )
    browser = _browser_of(client, tenant_a, permissions=("view", "change"))

    listing = browser.get("/knowledge/").text
    with django_capture_on_commit_callbacks() as enqueued:
        response = browser.post(f"/knowledge/{document.pk}/reindex/", follow=True)

    assert f'action="/knowledge/{document.pk}/reindex/"' in listing
    assert f'action="/knowledge/{document.pk}/delete/"' not in listing  # no delete permission
    assert "DNS runbook is being read again." in response.text
    assert len(enqueued) == 1
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(pk=document.pk).status == Document.Status.QUEUED
    _worker_reads(tenant_a, "dns.md")
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(pk=document.pk).status == Document.Status.EMBEDDING


def test_a_document_without_a_stored_file_offers_no_reindex_and_refuses_one(client, tenant_a):
    from tests.factories import DocumentFactory

    with schema_context(tenant_a.schema_name):
        document = DocumentFactory(title="Starter runbook")
    browser = _browser_of(client, tenant_a, permissions=("view", "change"))

    listing = browser.get("/knowledge/").text
    response = browser.post(f"/knowledge/{document.pk}/reindex/")

    assert "Starter runbook" in listing
    assert f'action="/knowledge/{document.pk}/reindex/"' not in listing
    assert response.status_code == 400
    assert "no stored file to read; upload it anew" in response.text


def test_users_who_may_only_view_see_no_buttons_and_get_403_on_delete_and_reindex(client, tenant_a):
    document = _ingested(tenant_a)
    browser = _browser_of(client, tenant_a, permissions=("view",))

    listing = browser.get("/knowledge/").text
    detail = browser.get(f"/knowledge/{document.pk}/").text
    deleted = browser.post(f"/knowledge/{document.pk}/delete/")
    reindexed = browser.post(f"/knowledge/{document.pk}/reindex/")

    for page in (listing, detail):
        assert 'method="post"' not in main_content(page)
    assert deleted.status_code == 403 and reindexed.status_code == 403
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(pk=document.pk).status == Document.Status.EMBEDDING


def test_delete_and_reindex_take_posts_only(staff_client, tenant_a):
    document = _ingested(tenant_a)

    assert staff_client.get(f"/knowledge/{document.pk}/delete/").status_code == 405
    assert staff_client.get(f"/knowledge/{document.pk}/reindex/").status_code == 405


def test_rows_being_indexed_poll_their_own_row_and_show_progress(staff_client, tenant_a):
    from tests.factories import DocumentFactory

    with schema_context(tenant_a.schema_name):
        queued = DocumentFactory(title="Queued doc", status=Document.Status.QUEUED)
        embedding = DocumentFactory(title="Embedding doc", status=Document.Status.EMBEDDING)
        _chunks(embedding, embedded=1, total=4)
        ready = DocumentFactory(title="Ready doc", status=Document.Status.READY)

    page = staff_client.get("/knowledge/").text

    def row(document):
        return re.search(rf'<tr id="document-{document.pk}".*?</tr>', page, re.S).group(0)

    assert f'hx-get="/knowledge/{queued.pk}/row/"' in row(queued)
    assert "<progress aria-label" in row(queued)  # no measure yet: indeterminate
    assert f'hx-get="/knowledge/{embedding.pk}/row/"' in row(embedding)
    assert 'hx-trigger="every 1s"' in row(embedding)
    assert '<progress value="1" max="4">' in row(embedding)
    assert "hx-get" not in row(ready) and "<progress" not in row(ready)
    assert "htmx-2.0.11.min.js" in page


def test_a_new_version_shows_the_progress_of_its_own_chunks(staff_client, tenant_a):
    from apps.knowledge.models import Chunk
    from tests.factories import DocumentFactory

    with schema_context(tenant_a.schema_name):
        document = DocumentFactory(status=Document.Status.EMBEDDING)
        _chunks(document, embedded=5, total=5, live=True)  # the version still answering
        Chunk.objects.bulk_create(
            Chunk(kind="document", document=document, is_live=False, position=n, text="new")
            for n in range(3)
        )

    row = staff_client.get(f"/knowledge/{document.pk}/row/").text

    assert '<progress value="0" max="3">' in row


def test_a_polled_row_stops_polling_once_the_document_is_ready_or_failed(staff_client, tenant_a):
    from tests.factories import DocumentFactory

    with schema_context(tenant_a.schema_name):
        document = DocumentFactory(title="Runbook", status=Document.Status.EMBEDDING)
        _chunks(document, embedded=2, total=2)

    polling = staff_client.get(f"/knowledge/{document.pk}/row/", HTTP_HX_REQUEST="true")
    with schema_context(tenant_a.schema_name):
        Document.objects.filter(pk=document.pk).update(status=Document.Status.READY)
    done = staff_client.get(f"/knowledge/{document.pk}/row/", HTTP_HX_REQUEST="true")
    with schema_context(tenant_a.schema_name):
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.FAILED, error="the model is unreachable"
        )
    failed = staff_client.get(f"/knowledge/{document.pk}/row/", HTTP_HX_REQUEST="true")

    assert polling.status_code == 200 and polling.text.lstrip().startswith("<tr")
    assert "hx-trigger" in polling.text and '<progress value="2" max="2">' in polling.text
    assert "hx-trigger" not in done.text and "ready" in done.text
    assert "hx-trigger" not in failed.text and "the model is unreachable" in failed.text


def test_a_row_deleted_meanwhile_stops_the_polling(staff_client):
    assert staff_client.get("/knowledge/999999/row/").status_code == 404
    assert staff_client.get("/knowledge/999999/row/", HTTP_HX_REQUEST="true").status_code == 286


def test_a_row_needs_the_view_permission(client, tenant_a):
    document = _ingested(tenant_a)

    response = _browser_of(client, tenant_a, permissions=()).get(f"/knowledge/{document.pk}/row/")

    assert response.status_code == 403


def test_a_company_never_sees_nor_deletes_another_companys_documents(client, tenant_a, tenant_b):
    from tests.factories import DocumentFactory

    with schema_context(tenant_b.schema_name):
        # Ids are per schema: B's document gets one A has not used.
        *_others, theirs = DocumentFactory.create_batch(
            5, title="Bravo secret runbook", status=Document.Status.QUEUED
        )
    document = _ingested(tenant_a)
    assert theirs.pk > document.pk
    browser = _browser_of(client, tenant_a, permissions=("view", "delete", "change"))

    listing = browser.get("/knowledge/").text

    assert "DNS runbook" in listing and "Bravo secret runbook" not in listing
    assert browser.get(f"/knowledge/{theirs.pk}/").status_code == 404
    assert browser.get(f"/knowledge/{theirs.pk}/row/").status_code == 404
    assert browser.post(f"/knowledge/{theirs.pk}/delete/").status_code == 404
    assert browser.post(f"/knowledge/{theirs.pk}/reindex/").status_code == 404
    with schema_context(tenant_b.schema_name):
        assert Document.objects.get(pk=theirs.pk).status == Document.Status.QUEUED
