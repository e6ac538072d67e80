"""The knowledge endpoints of the REST API (``/api/v1/knowledge/``), called here by people
logged in on a tenant's own domain (keys: test_keys.py, test_endpoints.py): upload (stored,
then read by a worker), list, read, re-index, delete, search; who may use them (staff with the
document permissions); and that nothing of tenant A can be seen, found or reached from tenant
B's domain."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context

from apps.knowledge import reading
from apps.knowledge.models import Chunk, Document, DocumentFile
from apps.knowledge.tasks import document_index_task
from tests.apps.api.problems import problem_of

DOCUMENTS_URL = "/api/v1/knowledge/documents/"
SEARCH_URL = "/api/v1/knowledge/search/"
PASSWORD = "correct horse battery staple"
ALL_DOCUMENT_PERMISSIONS = ("view", "add", "change", "delete")

RUNBOOK = b"""# Payments deploy runbook

## Rollback

If the deploy of payments-api fails with ImagePullBackOff, run
`kubectl rollout undo deployment/payments-api -n payments`.

## Verify

Check the rollout status of payments-api before closing the incident QUOKKA-4417.
"""


def _user_make(
    tenant,
    *,
    username: str = "admin",
    is_staff: bool = True,
    is_superuser: bool = False,
    permissions: tuple[str, ...] = ALL_DOCUMENT_PERMISSIONS,
):
    """A user of ``tenant`` holding ``permissions`` (view, add, change, delete) on documents."""
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.create_user(
            username=username, password=PASSWORD, is_staff=is_staff, is_superuser=is_superuser
        )
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="knowledge",
                codename__in=[f"{action}_document" for action in permissions],
            )
        )
        return user


class TenantAPI:
    """The Django test client, talking to one tenant's domain, logged in as one of its users
    (or anonymous)."""

    def __init__(self, client, tenant, user=None):
        self.client = client
        self.tenant = tenant
        self.headers = {"HTTP_HOST": tenant.get_primary_domain().domain}
        if user is not None:
            with schema_context(tenant.schema_name):
                client.force_login(user)  # users and sessions live in the tenant's schema

    def get(self, url: str, params: dict | None = None):
        return self.client.get(url, params or {}, **self.headers)

    def post(self, url: str, data: dict | None = None):
        return self.client.post(url, data or {}, **self.headers)

    def upload(self, name: str, data: bytes, **fields):
        return self.post(DOCUMENTS_URL, {"file": SimpleUploadedFile(name, data), **fields})

    def delete(self, url: str):
        return self.client.delete(url, **self.headers)

    def read_queued(self) -> None:
        """What the worker does with the uploads: run the read task of each queued one."""
        with schema_context(self.tenant.schema_name):
            queued = list(
                Document.objects.filter(status=Document.Status.QUEUED).values_list("pk", flat=True)
            )
        for document_id in queued:
            document_index_task.apply(
                kwargs={"document_id": document_id, "schema_name": self.tenant.schema_name}
            ).get()

    def upload_and_read(self, name: str, data: bytes, **fields) -> dict:
        response = self.upload(name, data, **fields)
        assert response.status_code in (200, 202), response.content
        self.read_queued()
        return self.get(f"{DOCUMENTS_URL}{response.json()['id']}/").json()


def _api_as(client, tenant, username: str, *, permissions: tuple[str, ...]) -> TenantAPI:
    """The client logged in (instead of whoever was) as a new staff user of ``tenant``."""
    return TenantAPI(client, tenant, _user_make(tenant, username=username, permissions=permissions))


@pytest.fixture
def api_a(client, tenant_a):
    return TenantAPI(client, tenant_a, _user_make(tenant_a))


@pytest.fixture
def small_limit(settings):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 1024


def _documents_in(tenant) -> int:
    with schema_context(tenant.schema_name):
        return Document.objects.count()


# Uploading: stored by the request, read by the worker ----------------------------------------


def test_an_upload_is_stored_and_answered_202_before_anything_reads_it(
    api_a, tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_a.upload("payments.md", RUNBOOK)

    assert response.status_code == 202
    uploaded = response.json()
    assert uploaded["outcome"] == "added"
    assert uploaded["status"] == "queued"
    assert uploaded["key"] == "payments.md"
    assert uploaded["title"] == "payments"  # its file name, until a worker reads its own
    assert uploaded["kind"] == "markdown"
    assert uploaded["source"] == "upload"
    assert uploaded["size_bytes"] == len(RUNBOOK)
    assert uploaded["chunk_count"] == 0
    assert len(callbacks) == 1  # the read task, published once the file is committed
    with schema_context(tenant_a.schema_name):
        assert bytes(DocumentFile.objects.get(document_id=uploaded["id"]).data) == RUNBOOK
        assert not Chunk.objects.exists()


def test_the_worker_reads_an_upload_into_chunks_found_by_their_words(api_a):
    document = api_a.upload_and_read("payments.md", RUNBOOK)

    assert document["status"] == "embedding"
    assert document["title"] == "Payments deploy runbook"
    assert document["chunk_count"] >= 1
    hits = api_a.get(SEARCH_URL, {"q": "QUOKKA-4417 incident"}).json()["results"]
    assert hits[0]["document_id"] == document["id"]
    assert hits[0]["document_key"] == "payments.md"
    assert "QUOKKA-4417" in hits[0]["text"]
    # A short runbook is one chunk: its sections together, under the document's heading.
    assert hits[0]["heading_path"] == ["Payments deploy runbook"]
    assert "Verify\nCheck the rollout status" in hits[0]["text"]


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
    first = api_a.upload_and_read("payments.md", RUNBOOK)

    response = api_a.upload("payments.md", RUNBOOK + b"\nAlso page the on-call engineer.\n")

    assert response.status_code == 202
    assert response.json()["outcome"] == "updated"
    assert response.json()["id"] == first["id"]
    assert response.json()["status"] == "queued"
    # The version that was read keeps answering until the new one is.
    assert response.json()["title"] == "Payments deploy runbook"
    assert response.json()["chunk_count"] == first["chunk_count"]
    assert _documents_in(tenant_a) == 1


def test_the_key_can_be_given_instead_of_the_file_name(api_a):
    response = api_a.upload("payments.md", RUNBOOK, key="runbooks/payments.md")

    assert response.status_code == 202
    assert response.json()["key"] == "runbooks/payments.md"


def test_a_corrupt_pdf_fails_in_the_worker_with_its_reason_and_its_file_is_kept(api_a, tenant_a):
    response = api_a.upload("broken.pdf", b"%PDF-1.7\n1 0 obj<<garbage")
    assert response.status_code == 202

    api_a.read_queued()

    document = api_a.get(f"{DOCUMENTS_URL}{response.json()['id']}/").json()
    assert document["status"] == "failed"
    assert document["failed_step"] == "reading"
    assert document["error"].startswith("not a readable PDF")
    assert "\n" not in document["error"]
    assert document["chunk_count"] == 0
    with schema_context(tenant_a.schema_name):
        assert DocumentFile.objects.filter(document_id=document["id"]).exists()


@pytest.fixture
def runaway_parser(monkeypatch, settings):
    """Parsing that never ends (the worker's child inherits the patch), a 1 s budget."""
    settings.KNOWLEDGE_PARSE_TIME_LIMIT_S = 1

    def spin(*, name, data):
        while True:
            pass

    monkeypatch.setattr(reading, "document_parse", spin)
    return monkeypatch


def test_a_file_over_the_budget_fails_with_the_reason_and_a_reindex_reads_it_again(
    api_a, runaway_parser
):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()

    api_a.read_queued()

    document = api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/").json()
    assert document["status"] == "failed"
    assert document["error"] == "reading the file took longer than 1 second"
    listed = api_a.get(DOCUMENTS_URL, {"status": "failed"}).json()["results"]
    assert [(d["id"], d["error"]) for d in listed] == [(uploaded["id"], document["error"])]

    runaway_parser.undo()  # the parser is fixed, or the machine less busy
    response = api_a.post(f"{DOCUMENTS_URL}{uploaded['id']}/reindex/")

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response.json()["error"] == ""
    api_a.read_queued()
    document = api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/").json()
    assert document["status"] == "embedding"
    assert document["title"] == "Payments deploy runbook"


def test_uploading_the_same_bytes_after_a_failure_reads_them_again(api_a, runaway_parser):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()
    api_a.read_queued()
    runaway_parser.undo()

    response = api_a.upload("payments.md", RUNBOOK)

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    api_a.read_queued()
    assert api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/").json()["status"] == "embedding"


def test_a_document_without_a_stored_file_cannot_be_reindexed(api_a, tenant_a):
    from tests.factories import DocumentFactory

    with schema_context(tenant_a.schema_name):
        document = DocumentFactory()

    response = api_a.post(f"{DOCUMENTS_URL}{document.pk}/reindex/")

    assert problem_of(response, 400)["detail"] == "no stored file to read; upload it anew"


def test_an_unsupported_file_type_is_refused_at_once_with_the_supported_ones(api_a, tenant_a):
    response = api_a.upload("diagram.png", b"\x89PNG\r\n\x1a\n")

    assert problem_of(response, 400)["detail"] == (
        "unsupported file type .png (supported: .htm, .html, .markdown, .md, .pdf, .txt)"
    )
    assert _documents_in(tenant_a) == 0


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(api_a, tenant_a, small_limit):
    response = api_a.upload("huge.md", b"# Huge\n\n" + b"x" * 2048)

    assert response.status_code == 413
    assert (
        problem_of(response, 413)["detail"] == "huge.md is 2,056 bytes, over the 1,024-byte limit"
    )
    assert _documents_in(tenant_a) == 0


def test_a_request_body_far_over_the_limit_is_refused_by_its_length_alone(
    api_a, tenant_a, small_limit
):
    response = api_a.upload("huge.md", b"# Huge\n\n" + b"x" * 200_000)

    assert response.status_code == 413
    assert "over the 1,024-byte limit for one file" in problem_of(response, 413)["detail"]
    assert _documents_in(tenant_a) == 0


def test_an_upload_without_a_file_is_a_field_error(api_a):
    response = api_a.post(DOCUMENTS_URL, {"key": "x.md"})

    assert list(problem_of(response, 400)["errors"]) == ["file"]


# Agent scoping ------------------------------------------------------------------------------


def test_a_document_for_one_agent_is_found_for_that_agent_only(api_a):
    uploaded = api_a.upload_and_read("payments.md", RUNBOOK, agent="atlas")

    assert uploaded["agent"] == "atlas"
    for agent, found in (("atlas", True), ("nox", False), (None, True)):
        params = {"q": "QUOKKA-4417", **({"agent": agent} if agent else {})}
        hits = api_a.get(SEARCH_URL, params).json()["results"]
        assert any(hit["document_id"] == uploaded["id"] for hit in hits) is found, agent


def test_an_unknown_agent_is_a_field_error_and_nothing_is_stored(api_a, tenant_a):
    response = api_a.upload("payments.md", RUNBOOK, agent="nobody")

    assert list(problem_of(response, 400)["errors"]) == ["agent"]
    assert _documents_in(tenant_a) == 0


# Listing, reading, deleting ------------------------------------------------------------------


def test_the_list_filters_by_status(api_a, tenant_a):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()

    queued = api_a.get(DOCUMENTS_URL, {"status": "queued"}).json()
    failed = api_a.get(DOCUMENTS_URL, {"status": "failed"}).json()

    assert [document["id"] for document in queued["results"]] == [uploaded["id"]]
    assert failed["results"] == []


def test_an_unknown_status_filter_is_a_field_error(api_a):
    response = api_a.get(DOCUMENTS_URL, {"status": "lost"})

    assert list(problem_of(response, 400)["errors"]) == ["status"]


def test_a_document_is_read_with_its_chunks_in_order(api_a):
    document = api_a.upload_and_read("payments.md", RUNBOOK)

    assert document["key"] == "payments.md"
    assert document["chunks_truncated"] is False
    assert len(document["chunks"]) == document["chunk_count"]
    assert [chunk["position"] for chunk in document["chunks"]] == sorted(
        chunk["position"] for chunk in document["chunks"]
    )
    assert document["chunks"][-1]["heading_path"] == ["Payments deploy runbook"]
    assert "QUOKKA-4417" in document["chunks"][-1]["text"]


def test_deleting_a_document_removes_it_its_file_and_its_chunks(api_a, tenant_a):
    uploaded = api_a.upload_and_read("payments.md", RUNBOOK)

    response = api_a.delete(f"{DOCUMENTS_URL}{uploaded['id']}/")

    assert response.status_code == 204
    assert api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 404
    assert api_a.get(SEARCH_URL, {"q": "QUOKKA-4417"}).json()["results"] == []
    with schema_context(tenant_a.schema_name):
        assert not Document.objects.exists()
        assert not DocumentFile.objects.exists()
        assert not Chunk.objects.exists()


def test_a_document_deleted_before_the_worker_reads_it_is_skipped(api_a, tenant_a):
    uploaded = api_a.upload("payments.md", RUNBOOK).json()
    api_a.delete(f"{DOCUMENTS_URL}{uploaded['id']}/")

    document_index_task.apply(
        kwargs={"document_id": uploaded["id"], "schema_name": tenant_a.schema_name}
    ).get()

    assert _documents_in(tenant_a) == 0


def test_an_unknown_document_is_404_with_the_error_body(api_a):
    response = api_a.get(f"{DOCUMENTS_URL}999999/")

    problem_of(response, 404)


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

    assert list(problem_of(response, 400)["errors"]) == [field]


def test_search_returns_at_most_limit_hits(api_a):
    for n in range(4):
        api_a.upload(
            f"note-{n}.md", f"# Note {n}\n\nThe backup of host-{n} runs at night.".encode()
        )
    api_a.read_queued()

    hits = api_a.get(SEARCH_URL, {"q": "backup", "limit": "3"}).json()["results"]

    assert len(hits) == 3


# Who may use it -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", DOCUMENTS_URL), ("post", DOCUMENTS_URL), ("get", SEARCH_URL + "?q=x")],
)
def test_anonymous_requests_are_refused_with_the_error_body(client, tenant_a, method, url):
    host = tenant_a.get_primary_domain().domain

    response = getattr(client, method)(url, HTTP_HOST=host)

    # 401: the API key scheme offers a challenge.
    problem_of(response, 401)
    assert response["WWW-Authenticate"] == "Api-Key"
    assert _documents_in(tenant_a) == 0


def test_a_user_who_is_not_staff_is_403_and_cannot_upload(client, tenant_a):
    member = TenantAPI(client, tenant_a, _user_make(tenant_a, username="member", is_staff=False))

    assert member.get(DOCUMENTS_URL).status_code == 403
    response = member.upload("payments.md", RUNBOOK)

    problem_of(response, 403)
    assert _documents_in(tenant_a) == 0


def test_staff_without_document_permissions_can_neither_read_upload_reindex_nor_delete(
    client, api_a, tenant_a
):
    uploaded = api_a.upload_and_read("payments.md", RUNBOOK)
    staff = _api_as(client, tenant_a, "staff", permissions=())
    detail_url = f"{DOCUMENTS_URL}{uploaded['id']}/"

    responses = {
        "list": staff.get(DOCUMENTS_URL),
        "read": staff.get(detail_url),
        "search": staff.get(SEARCH_URL, {"q": "QUOKKA-4417"}),
        "upload": staff.upload("other.md", RUNBOOK),
        "reindex": staff.post(f"{detail_url}reindex/"),
        "delete": staff.delete(detail_url),
    }

    assert {action: r.status_code for action, r in responses.items()} == dict.fromkeys(
        responses, 403
    )
    assert all(problem_of(r, 403) for r in responses.values())
    with schema_context(tenant_a.schema_name):
        assert list(Document.objects.values_list("key", "status")) == [
            ("payments.md", Document.Status.EMBEDDING)
        ]


def test_each_document_permission_allows_its_own_action_only(client, api_a, tenant_a):
    uploaded = api_a.upload_and_read("payments.md", RUNBOOK)
    detail_url = f"{DOCUMENTS_URL}{uploaded['id']}/"
    viewer = _api_as(client, tenant_a, "viewer", permissions=("view",))

    assert viewer.get(DOCUMENTS_URL).status_code == 200
    assert viewer.get(detail_url).status_code == 200
    assert viewer.get(SEARCH_URL, {"q": "QUOKKA-4417"}).status_code == 200
    assert viewer.upload("other.md", RUNBOOK).status_code == 403
    assert viewer.post(f"{detail_url}reindex/").status_code == 403
    assert viewer.delete(detail_url).status_code == 403

    adder = _api_as(client, tenant_a, "adder", permissions=("add",))
    assert adder.upload("other.md", RUNBOOK).status_code == 202
    assert adder.get(DOCUMENTS_URL).status_code == 403

    changer = _api_as(client, tenant_a, "changer", permissions=("change",))
    assert changer.post(f"{detail_url}reindex/").status_code == 202

    deleter = _api_as(client, tenant_a, "deleter", permissions=("delete",))
    assert deleter.delete(detail_url).status_code == 204


def test_a_superuser_needs_no_explicit_permission(client, tenant_a):
    owner = _user_make(tenant_a, username="owner", is_superuser=True, permissions=())
    api = TenantAPI(client, tenant_a, owner)

    uploaded = api.upload_and_read("payments.md", RUNBOOK)

    assert len(api.get(DOCUMENTS_URL).json()["results"]) == 1
    assert api.get(SEARCH_URL, {"q": "QUOKKA-4417"}).json()["results"]
    assert api.post(f"{DOCUMENTS_URL}{uploaded['id']}/reindex/").status_code == 202
    assert api.delete(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 204


def test_the_api_is_not_served_on_the_public_site(client, db):
    assert client.get(DOCUMENTS_URL, HTTP_HOST="localhost").status_code == 404


# Tenant isolation ---------------------------------------------------------------------------


def test_tenant_b_does_not_list_read_or_find_a_document_of_tenant_a(client, tenant_a, tenant_b):
    api_a = TenantAPI(client, tenant_a, _user_make(tenant_a))
    uploaded = api_a.upload_and_read("payments.md", RUNBOOK)
    # A browser of its own: one client holds one session cookie.
    api_b = TenantAPI(Client(), tenant_b, _user_make(tenant_b, username="admin_b"))
    with schema_context(tenant_b.schema_name):
        # B has documents of its own (its starter packs), none with A's document's id.
        assert Document.objects.exists()
        assert not Document.objects.filter(pk=uploaded["id"]).exists()

    listed = api_b.get(DOCUMENTS_URL, {"page_size": 200}).json()
    assert len(listed["results"]) == _documents_in(tenant_b)
    assert "payments.md" not in {document["key"] for document in listed["results"]}
    assert api_b.get(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 404
    assert api_b.post(f"{DOCUMENTS_URL}{uploaded['id']}/reindex/").status_code == 404
    assert api_b.delete(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 404
    hits = api_b.get(SEARCH_URL, {"q": "QUOKKA-4417", "limit": "20"}).json()["results"]
    assert all("QUOKKA-4417" not in hit["text"] for hit in hits)
    # And A's document is still there, untouched.
    assert api_a.get(f"{DOCUMENTS_URL}{uploaded['id']}/").status_code == 200


def test_a_session_of_tenant_a_is_anonymous_on_tenant_b_domain(client, tenant_a, tenant_b):
    api_a = TenantAPI(client, tenant_a, _user_make(tenant_a))
    assert api_a.get(DOCUMENTS_URL).status_code == 200

    response = client.get(DOCUMENTS_URL, HTTP_HOST=tenant_b.get_primary_domain().domain)

    assert response.status_code in (401, 403)
