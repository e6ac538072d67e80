"""An upload through the API goes through the real broker and a real Celery worker: read in
the worker within its budget, embedded, ready; a file over the budget ends failed with the
reason, and the worker carries on with the next one."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.knowledge import reading
from apps.knowledge.models import Document
from jamono.celery import app as celery_app
from tests.factories import tenant_make

RUNBOOK = b"# Disk full\n\n## Clean\n\nRun `journalctl --vacuum-size=500M` on host db-7.\n"
FINAL = {Document.Status.READY, Document.Status.FAILED}


@pytest.fixture
def worker(transactional_db, ollama_double):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


def _final_statuses(tenant, keys: list[str], timeout: float = 60.0) -> dict[str, Document]:
    deadline = time.monotonic() + timeout
    while True:
        with schema_context(tenant.schema_name):
            documents = {d.key: d for d in Document.objects.filter(key__in=keys)}
        if len(documents) == len(keys) and {d.status for d in documents.values()} <= FINAL:
            return documents
        if time.monotonic() > deadline:
            pytest.fail(f"not final in time: { {k: d.status for k, d in documents.items()} }")
        time.sleep(0.1)


def test_uploads_are_read_and_embedded_by_the_worker_a_runaway_one_fails_alone(
    worker, client, settings, monkeypatch
):
    settings.KNOWLEDGE_PARSE_TIME_LIMIT_S = 1
    parse = reading.document_parse

    def parse_or_spin(*, name, data):
        while name == "runaway.md":
            pass
        return parse(name=name, data=data)

    monkeypatch.setattr(reading, "document_parse", parse_or_spin)
    tenant = tenant_make()
    with schema_context(tenant.schema_name):
        client.force_login(get_user_model().objects.create_superuser("owner", password="pw-12345"))
    host = tenant.get_primary_domain().domain

    for name in ("runaway.md", "disk.md"):
        response = client.post(
            "/api/v1/knowledge/documents/",
            {"file": SimpleUploadedFile(name, RUNBOOK)},
            HTTP_HOST=host,
        )
        assert response.status_code == 202
        assert response.json()["status"] == "queued"

    documents = _final_statuses(tenant, ["runaway.md", "disk.md"])

    assert documents["runaway.md"].status == Document.Status.FAILED
    assert documents["runaway.md"].error == "reading the file took longer than 1 second"
    assert documents["disk.md"].status == Document.Status.READY
    assert documents["disk.md"].title == "Disk full"
    hits = client.get("/api/v1/knowledge/search/", {"q": "db-7"}, HTTP_HOST=host).json()["results"]
    assert hits[0]["document_key"] == "disk.md"
