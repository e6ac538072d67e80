"""The knowledge REST API on a tenant's own domain: upload, list, read, delete, search; who may
use it; and that nothing of tenant A can be seen, found or reached from tenant B's domain."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.knowledge.models import Chunk, Document

DOCUMENTS_URL = "/api/knowledge/documents/"
SEARCH_URL = "/api/knowledge/search/"
PASSWORD = "correct horse battery staple"

RUNBOOK = b"""# Payments deploy runbook

## Rollback

If the deploy of payments-api fails with ImagePullBackOff, run
`kubectl rollout undo deployment/payments-api -n payments`.

## Verify

Check the rollout status of payments-api before closing the incident QUOKKA-4417.
"""


def _user_make(tenant, *, username: str = "admin", is_staff: bool = True):
    with schema_context(tenant.schema_name):
        return get_user_model().objects.create_user(
            username=username, password=PASSWORD, is_staff=is_staff
        )


def _basic_auth(username: str, password: str = PASSWORD) -> str:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {credentials}"


class TenantAPI:
    """The Django test client, talking to one tenant's domain as one of its users."""

    def __init__(self, client, tenant, username: str | None = None):
        self.client = client
        self.headers = {"HTTP_HOST": tenant.get_primary_domain().domain}
        if username:
            self.headers["HTTP_AUTHORIZATION"] = _basic_auth(username)

    def get(self, url: str, params: dict | None = None):
        return self.client.get(url, params or {}, **self.headers)

    def upload(self, name: str, data: bytes, **fields):
        body = {"file": SimpleUploadedFile(name, data), **fields}
        return self.client.post(DOCUMENTS_URL, body, **self.headers)

    def delete(self, url: str):
        return self.client.delete(url, **self.headers)


@pytest.fixture
def api_a(client, tenant_a):
    _user_make(tenant_a)
    return TenantAPI(client, tenant_a, "admin")


@pytest.fixture
def api_b(client, tenant_b):
    _user_make(tenant_b, username="admin_b")
    return TenantAPI(client, tenant_b, "admin_b")


@pytest.fixture
def small_limit(settings):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 1024


def _documents_in(tenant) -> int:
    with schema_context(tenant.schema_name):
        return Document.objects.count()


# Uploading ---------------------------------------------------------------------------------


def test_uploading_markdown_adds_a_document_that_is_listed_and_found_by_its_words(api_a, tenant_a):
    response = api_a.upload("payments.md", RUNBOOK)

    assert response.status_code == 201
    uploaded = response.json()
    assert uploaded["outcome"] == "added"
    assert uploaded["key"] == "payments.md"
    assert uploaded["title"] == "Payments deploy runbook"
    assert uploaded["kind"] == "markdown"
    assert uploaded["source"] == "upload"
    assert uploaded["agent"] is None
    assert uploaded["size_bytes"] == len(RUNBOOK)
    assert uploaded["status"] == "embedding"
    assert uploaded["chunk_count"] >= 1

    listed = api_a.get(DOCUMENTS_URL).json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == uploaded["id"]
    assert listed["results"][0]["chunk_count"] == uploaded["chunk_count"]

    hits = api_a.get(SEARCH_URL, {"q": "QUOKKA-4417 incident"}).json()["results"]
    assert hits[0]["document_id"] == uploaded["id"]
    assert hits[0]["document_key"] == "payments.md"
    assert "QUOKKA-4417" in hits[0]["text"]
    assert hits[0]["heading_path"] == ["Payments deploy runbook", "Verify"]


def test_an_upload_enqueues_its_embedding_after_commit(api_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_a.upload("payments.md", RUNBOOK)

    assert response.status_code == 201
    assert len(callbacks) == 1


def test_uploading_the_same_bytes_again_changes_nothing_and_enqueues_nothing(
    api_a, tenant_a, django_capture_on_commit_callbacks
):
    first = api_a.upload("payments.md", RUNBOOK).json()

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_a.upload("payments.md", RUNBOOK)

    assert response.status_code == 200
    assert response.json()["outcome"] == "unchanged"
    assert response.json()["id"] == first["id"]
    assert callbacks == []
    assert _documents_in(tenant_a) == 1


def test_uploading_changed_bytes_under_the_same_key_updates_the_document(api_a, tenant_a):
    first = api_a.upload("payments.md", RUNBOOK).json()

    response = api_a.upload("payments.md", RUNBOOK + b"\nAlso page the on-call engineer.\n")

    assert response.status_code == 201
    assert response.json()["outcome"] == "updated"
    assert response.json()["id"] == first["id"]
    assert _documents_in(tenant_a) == 1


def test_the_key_can_be_given_instead_of_the_file_name(api_a):
    response = api_a.upload("payments.md", RUNBOOK, key="runbooks/payments.md")

    assert response.status_code == 201
    assert response.json()["key"] == "runbooks/payments.md"


def test_a_corrupt_pdf_is_refused_with_its_reason_and_nothing_is_stored(api_a, tenant_a):
    response = api_a.upload("broken.pdf", b"%PDF-1.7\n1 0 obj<<garbage")

    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert response.json()["error"].startswith("not a readable PDF")
    assert _documents_in(tenant_a) == 0
    with schema_context(tenant_a.schema_name):
        assert Chunk.objects.count() == 0


def test_an_unsupported_file_type_is_refused_with_the_supported_ones(api_a, tenant_a):
    response = api_a.upload("diagram.png", b"\x89PNG\r\n\x1a\n")

    assert response.status_code == 400
    assert response.json() == {
        "error": "unsupported file type .png (supported: .htm, .html, .markdown, .md, .pdf, .txt)"
    }
    assert _documents_in(tenant_a) == 0


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(api_a, tenant_a, small_limit):
    response = api_a.upload("huge.md", b"# Huge\n\n" + b"x" * 2048)

    assert response.status_code == 413
    assert response.json() == {"error": "huge.md is 2,056 bytes, over the 1,024-byte limit"}
    assert _documents_in(tenant_a) == 0


def test_a_request_body_far_over_the_limit_is_refused_by_its_length_alone(
    api_a, tenant_a, small_limit
):
    response = api_a.upload("huge.md", b"# Huge\n\n" + b"x" * 200_000)

    assert response.status_code == 413
    assert "over the 1,024-byte limit for one file" in response.json()["error"]
    assert _documents_in(tenant_a) == 0


def test_an_upload_without_a_file_is_a_field_error(api_a):
    response = api_a.client.post(DOCUMENTS_URL, {"key": "x.md"}, **api_a.headers)

    assert response.status_code == 400
    assert response.json()["error"] == "The request is not valid."
    assert list(response.json()["fields"]) == ["file"]


# Agent scoping ------------------------------------------------------------------------------


def test_a_document_for_one_agent_is_found_for_that_agent_only(api_a):
    uploaded = api_a.upload("payments.md", RUNBOOK, agent="atlas").json()

    assert uploaded["agent"] == "atlas"
    for agent, found in (("atlas", True), ("nox", False), (None, True)):
        params = {"q": "QUOKKA-4417", **({"agent": agent} if agent else {})}
        hits = api_a.get(SEARCH_URL, params).json()["results"]
        assert any(hit["document_id"] == uploaded["id"] for hit in hits) is found, agent


def test_an_unknown_agent_is_a_field_error_and_nothing_is_stored(api_a, tenant_a):
    response = api_a.upload("payments.md", RUNBOOK, agent="nobody")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["agent"]
    assert _documents_in(tenant_a) == 0


# Listing, reading, deleting ------------------------------------------------------------------


def test_the_list_filters_by_status(api_a, tenant_a):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()
    with schema_context(tenant_a.schema_name):
        Document.objects.filter(pk=uploaded["id"]).update(status=Document.Status.READY)

    ready = api_a.get(DOCUMENTS_URL, {"status": "ready"}).json()
    failed = api_a.get(DOCUMENTS_URL, {"status": "failed"}).json()

    assert [document["id"] for document in ready["results"]] == [uploaded["id"]]
    assert failed["count"] == 0


def test_an_unknown_status_filter_is_a_field_error(api_a):
    response = api_a.get(DOCUMENTS_URL, {"status": "lost"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["status"]


def test_a_document_is_read_with_its_chunks_in_order(api_a):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()

    response = api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/")

    assert response.status_code == 200
    document = response.json()
    assert document["key"] == "payments.md"
    assert document["chunks_truncated"] is False
    assert len(document["chunks"]) == document["chunk_count"]
    assert [chunk["position"] for chunk in document["chunks"]] == sorted(
        chunk["position"] for chunk in document["chunks"]
    )
    assert document["chunks"][-1]["heading_path"] == ["Payments deploy runbook", "Verify"]
    assert "QUOKKA-4417" in document["chunks"][-1]["text"]


def test_deleting_a_document_removes_it_and_its_chunks(api_a, tenant_a):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()

    response = api_a.delete(f"{DOCUMENTS_URL}{uploaded['id']}/")

    assert response.status_code == 204
    assert api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 404
    assert api_a.get(SEARCH_URL, {"q": "QUOKKA-4417"}).json()["results"] == []
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.exists()
        assert not Chunk.objects.exists()


def test_an_unknown_document_is_404_with_the_error_body(api_a):
    response = api_a.get(f"{DOCUMENTS_URL}999999/")

    assert response.status_code == 404
    assert set(response.json()) == {"error"}


# Search validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "rollback", "limit": "0"}, "limit"),
        ({"q": "rollback", "limit": "21"}, "limit"),
        ({"q": "rollback", "limit": "many"}, "limit"),
        ({"q": "rollback", "agent": "nobody"}, "agent"),
    ],
)
def test_a_malformed_search_is_400_with_the_field_at_fault(api_a, params, field):
    response = api_a.get(SEARCH_URL, params)

    assert response.status_code == 400
    assert response.json()["error"] == "The request is not valid."
    assert list(response.json()["fields"]) == [field]


def test_search_returns_at_most_limit_hits(api_a):
    for n in range(4):
        api_a.upload(
            f"note-{n}.md", f"# Note {n}\n\nThe backup of host-{n} runs at night.".encode()
        )

    hits = api_a.get(SEARCH_URL, {"q": "backup", "limit": "3"}).json()["results"]

    assert len(hits) == 3


# Who may use it -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", DOCUMENTS_URL), ("post", DOCUMENTS_URL), ("get", SEARCH_URL + "?q=x")],
)
def test_anonymous_requests_are_401_with_a_basic_challenge(client, tenant_a, method, url):
    host = tenant_a.get_primary_domain().domain

    response = getattr(client, method)(url, HTTP_HOST=host)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert set(response.json()) == {"error"}


def test_a_wrong_password_is_401(client, tenant_a):
    _user_make(tenant_a)

    response = client.get(
        DOCUMENTS_URL,
        HTTP_HOST=tenant_a.get_primary_domain().domain,
        HTTP_AUTHORIZATION=_basic_auth("admin", "wrong password"),
    )

    assert response.status_code == 401


def test_a_user_who_is_not_staff_is_403_and_cannot_upload(client, tenant_a):
    _user_make(tenant_a, username="member", is_staff=False)
    member = TenantAPI(client, tenant_a, "member")

    assert member.get(DOCUMENTS_URL).status_code == 403
    response = member.upload("payments.md", RUNBOOK)

    assert response.status_code == 403
    assert set(response.json()) == {"error"}
    assert _documents_in(tenant_a) == 0


def test_a_logged_in_staff_session_works_too(client, tenant_a):
    user = _user_make(tenant_a)
    with schema_context(tenant_a.schema_name):
        client.force_login(user)

    response = client.get(DOCUMENTS_URL, HTTP_HOST=tenant_a.get_primary_domain().domain)

    assert response.status_code == 200


def test_the_api_is_not_served_on_the_public_site(client, db):
    assert client.get(DOCUMENTS_URL, HTTP_HOST="localhost").status_code == 404


# Tenant isolation ---------------------------------------------------------------------------


def test_tenant_b_does_not_list_read_or_find_a_document_of_tenant_a(api_a, api_b, tenant_b):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()
    with schema_context(tenant_b.schema_name):
        # B has documents of its own (its starter packs), none with A's document's id.
        assert Document.objects.exists()
        assert not Document.objects.filter(pk=uploaded["id"]).exists()

    listed = api_b.get(DOCUMENTS_URL, {"page_size": 200}).json()
    assert listed["count"] == _documents_in(tenant_b)
    assert "payments.md" not in {document["key"] for document in listed["results"]}
    assert api_b.get(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 404
    assert api_b.delete(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 404
    hits = api_b.get(SEARCH_URL, {"q": "QUOKKA-4417", "limit": "20"}).json()["results"]
    assert all("QUOKKA-4417" not in hit["text"] for hit in hits)
    # And A's document is still there, untouched.
    assert api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 200


def test_a_user_of_tenant_a_cannot_authenticate_on_tenant_b_domain(
    client, api_a, tenant_b, tenant_a
):
    as_a_user_on_b = TenantAPI(client, tenant_b, "admin")

    response = as_a_user_on_b.get(DOCUMENTS_URL)

    assert response.status_code == 401
    assert api_a.get(DOCUMENTS_URL).status_code == 200


def test_a_session_of_tenant_a_is_anonymous_on_tenant_b_domain(client, tenant_a, tenant_b):
    user = _user_make(tenant_a)
    with schema_context(tenant_a.schema_name):
        client.force_login(user)
    assert (
        client.get(DOCUMENTS_URL, HTTP_HOST=tenant_a.get_primary_domain().domain).status_code == 200
    )

    response = client.get(DOCUMENTS_URL, HTTP_HOST=tenant_b.get_primary_domain().domain)

    assert response.status_code == 401
