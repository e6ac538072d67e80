"""Ingesting documents into a tenant's knowledge base: folders, bad files, re-ingest,
atomic replacement, the embeddings computed through the LLM provider port, and the steps of an
upload (read, embed) when they fail or cross a newer version."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.knowledge import reading, services, tasks
from apps.knowledge.models import Chunk, Document
from apps.knowledge.selectors import knowledge_search
from apps.knowledge.services import (
    EmbeddingError,
    document_embed,
    document_index,
    document_ingest,
    document_upload,
    documents_waiting_for_embedding,
)
from apps.knowledge.tasks import documents_embed_waiting_all_tenants

RUNBOOK = """# Payments deploy runbook

## Rollback

If the deploy of payments-api fails with ImagePullBackOff, run
`kubectl rollout undo deployment/payments-api -n payments`.

## Verify

Check `kubectl rollout status deployment/payments-api -n payments`.
"""


def _folder_of_mixed_documents(root, count: int):
    """``count`` good documents of every supported kind, one corrupt PDF, one oversized file."""
    root.mkdir()
    for n in range(count):
        kind = n % 3
        if kind == 0:
            (root / f"runbook-{n:02d}.md").write_text(
                f"# Runbook {n}\n\n## Symptom\n\nError code ERR-{n:04d} on service svc-{n}.\n"
                f"\n## Fix\n\nRestart svc-{n} with `systemctl restart svc-{n}`.\n"
            )
        elif kind == 1:
            (root / f"note-{n:02d}.txt").write_text(
                f"Note {n}: the backup of host-{n} runs at 02:00."
            )
        else:
            (root / f"page-{n:02d}.html").write_text(
                f"<html><head><title>Page {n}</title></head><body><h1>Page {n}</h1>"
                f"<p>Service svc-{n} owns queue q-{n}.</p><script>x()</script></body></html>"
            )
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj<<garbage")
    (root / "huge.md").write_text("# Huge\n\n" + "x" * 2048)
    return root


@pytest.fixture
def small_limit(settings):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 1024


def test_a_folder_goes_in_bad_files_are_reported_and_re_ingest_changes_nothing(
    tenant_a, tmp_path, ollama_double, small_limit, capsys
):
    folder = _folder_of_mixed_documents(tmp_path / "docs", 51)

    call_command("kb_ingest", tenant_a.schema_name, str(folder))

    out, err = capsys.readouterr()
    assert "added 51, updated 0, unchanged 0, failed 2" in out
    assert "skipped docs/broken.pdf: " in err
    assert "skipped docs/huge.md: huge.md is 2,056 bytes, over the 1,024-byte limit" in err
    with schema_context(tenant_a.schema_name):
        documents = Document.objects.filter(source=Document.Source.COMMAND_LINE)
        assert documents.count() == 51
        assert set(documents.values_list("status", flat=True)) == {Document.Status.READY}
        assert not Chunk.objects.filter(document__in=documents, embedding__isnull=True).exists()
        for n in (0, 1, 2, 49, 50):
            hits = knowledge_search(f"svc-{n}" if n % 3 != 1 else f"host-{n}")
            assert hits, n
        chunk_count = Chunk.objects.count()

    call_command("kb_ingest", tenant_a.schema_name, str(folder))

    out, _ = capsys.readouterr()
    assert "added 0, updated 0, unchanged 51, failed 2" in out
    with schema_context(tenant_a.schema_name):
        assert Chunk.objects.count() == chunk_count


def test_exact_error_strings_and_commands_are_found_by_full_text(tenant_a, ollama_double):
    with schema_context(tenant_a.schema_name):
        document_ingest(key="rb.md", name="rb.md", data=RUNBOOK.encode(), source="upload")
        document_embed(Document.objects.get(key="rb.md"))

        hits = knowledge_search("ImagePullBackOff")

        assert hits[0].document_title == "Payments deploy runbook"
        assert hits[0].heading_path == ("Payments deploy runbook",)  # its sections merged
        assert "Rollback\nIf the deploy of payments-api fails" in hits[0].text
        assert "kubectl rollout undo" in hits[0].text
        assert hits[0].text.startswith("Payments deploy runbook")


def test_vector_search_finds_the_chunk_whose_embedding_matches(tenant_a, ollama_double):
    from apps.integrations.bases.llm import llm_provider_get

    with schema_context(tenant_a.schema_name):
        document_ingest(key="rb.md", name="rb.md", data=RUNBOOK.encode(), source="upload")
        document = Document.objects.get(key="rb.md")
        document_embed(document)
        verify = document.chunks.get()  # a short runbook is one chunk

        query_vector = llm_provider_get().embed([verify.text])[0]
        hits = knowledge_search("zzz-no-words-match", query_embedding=query_vector)

        assert hits[0].chunk_id == verify.pk
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-6)
        assert hits[0].text_rank is None


def test_a_changed_document_replaces_its_chunks_only_once_they_are_embedded(
    tenant_a, ollama_double
):
    with schema_context(tenant_a.schema_name):
        document_ingest(key="rb.md", name="rb.md", data=RUNBOOK.encode(), source="upload")
        document_embed(Document.objects.get(key="rb.md"))
        changed = RUNBOOK.replace("ImagePullBackOff", "CrashLoopBackOff")

        assert (
            document_ingest(key="rb.md", name="rb.md", data=changed.encode(), source="upload")
            == "updated"
        )
        # Until the new version is embedded, readers still see the old one, whole.
        assert knowledge_search("ImagePullBackOff")
        assert not knowledge_search("CrashLoopBackOff")

        document_embed(Document.objects.get(key="rb.md"))

        assert knowledge_search("CrashLoopBackOff")
        assert not knowledge_search("ImagePullBackOff")
        assert Chunk.objects.filter(document__key="rb.md", is_live=False).count() == 0


def test_an_unreachable_embedding_model_marks_the_document_and_keeps_its_text_searchable(
    tenant_a, settings, closed_port_url
):
    from apps.knowledge.services import EmbeddingError

    settings.OLLAMA_HOST = closed_port_url
    with schema_context(tenant_a.schema_name):
        document_ingest(key="rb.md", name="rb.md", data=RUNBOOK.encode(), source="upload")
        document = Document.objects.get(key="rb.md")

        with pytest.raises(EmbeddingError):
            document_embed(document)

        document.refresh_from_db()
        assert document.status == Document.Status.FAILED
        assert "unreachable" in document.error
        assert knowledge_search("ImagePullBackOff")  # first version: live by its words


def test_a_wrong_embedding_size_is_refused(tenant_a, ollama_double):
    from apps.knowledge.services import EmbeddingError

    ollama_double.embedding_dimension = 12
    with schema_context(tenant_a.schema_name):
        document_ingest(key="rb.md", name="rb.md", data=RUNBOOK.encode(), source="upload")
        with pytest.raises(EmbeddingError, match="12 dimensions; EMBEDDING_DIMENSIONS is 768"):
            document_embed(Document.objects.get(key="rb.md"))


def test_kb_ingest_refuses_an_unknown_tenant_or_path(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no tenant"):
        call_command("kb_ingest", "nobody", str(tmp_path))
    with pytest.raises(CommandError, match="no tenant"):
        call_command("kb_ingest", "nobody", str(tmp_path / "missing"), stdout=io.StringIO())


# The command line reads within the budget -----------------------------------------------------


def test_kb_ingest_skips_a_file_over_the_budget_with_the_reason_and_takes_the_others(
    tenant_a, tmp_path, ollama_double, settings, monkeypatch, capsys
):
    settings.KNOWLEDGE_PARSE_TIME_LIMIT_S = 1
    parse = reading.document_parse

    def parse_or_spin(*, name, data):
        while name == "runaway.md":
            pass
        return parse(name=name, data=data)

    monkeypatch.setattr(reading, "document_parse", parse_or_spin)  # inherited by the child
    (tmp_path / "runaway.md").write_text(RUNBOOK)
    (tmp_path / "fine.md").write_text(RUNBOOK)

    call_command("kb_ingest", tenant_a.schema_name, str(tmp_path))

    out, err = capsys.readouterr()
    assert "added 1, updated 0, unchanged 0, failed 1" in out
    assert f"skipped {tmp_path.name}/runaway.md: reading the file took longer than 1 second" in err
    with schema_context(tenant_a.schema_name):
        assert list(Document.objects.values_list("key", flat=True)) == [f"{tmp_path.name}/fine.md"]


# Steps that fail, versions that cross ---------------------------------------------------------


def _uploaded_and_read(key: str, data: bytes) -> Document:
    document_upload(key=key, name=key, data=data)
    document = Document.objects.get(key=key)
    document_index(document_id=document.pk)
    document.refresh_from_db()
    return document


def test_a_document_that_failed_at_reading_is_never_embedded_nor_marked_ready(
    tenant_a, ollama_double
):
    with schema_context(tenant_a.schema_name):
        document = _uploaded_and_read("broken.pdf", b"%PDF-1.7 garbage")
        assert (document.status, document.failed_step) == ("failed", "reading")

        document_embed(document)
        documents_embed_waiting_all_tenants.apply().get()

        document.refresh_from_db()
        assert document.status == Document.Status.FAILED
        assert document.error.startswith("not a readable PDF")
        assert document not in documents_waiting_for_embedding()


def test_a_failed_embedding_is_retried_by_the_sweep(tenant_a, settings, closed_port_url):
    settings.OLLAMA_HOST = closed_port_url
    with schema_context(tenant_a.schema_name):
        document = _uploaded_and_read("rb.md", RUNBOOK.encode())
        with pytest.raises(EmbeddingError):
            document_embed(document)
        document.refresh_from_db()

        assert (document.status, document.failed_step) == ("failed", "embedding")
        assert document in documents_waiting_for_embedding()


def test_the_sweep_queues_again_an_upload_whose_read_was_lost(tenant_a, monkeypatch):
    enqueued = []
    monkeypatch.setattr(
        tasks,
        "enqueue_for_tenant",
        lambda task, *, schema_name, kwargs: enqueued.append((task.name, kwargs["document_id"])),
    )
    with schema_context(tenant_a.schema_name):
        document_upload(key="lost.md", name="lost.md", data=RUNBOOK.encode())
        document_upload(key="fresh.md", name="fresh.md", data=RUNBOOK.encode())
        lost = Document.objects.get(key="lost.md")
        Document.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    documents_embed_waiting_all_tenants.apply().get()

    assert enqueued == [("apps.knowledge.tasks.document_index_task", lost.pk)]


def test_a_read_whose_file_was_replaced_meanwhile_is_dropped(tenant_a, monkeypatch):
    replaced = RUNBOOK.replace("ImagePullBackOff", "CrashLoopBackOff").encode()
    read = services.document_read_within_budget

    def read_as_a_new_version_arrives(*, name, data):
        document_upload(key="rb.md", name="rb.md", data=replaced)
        return read(name=name, data=data)

    with schema_context(tenant_a.schema_name):
        document_upload(key="rb.md", name="rb.md", data=RUNBOOK.encode())
        document = Document.objects.get(key="rb.md")
        monkeypatch.setattr(services, "document_read_within_budget", read_as_a_new_version_arrives)

        document_index(document_id=document.pk)

        document.refresh_from_db()
        assert document.status == Document.Status.QUEUED  # the new version's own task reads it
        assert not Chunk.objects.filter(document=document).exists()
        monkeypatch.undo()
        document_index(document_id=document.pk)
        assert knowledge_search("CrashLoopBackOff")
        assert not knowledge_search("ImagePullBackOff")


def test_chunks_stored_while_an_embedding_runs_are_not_swapped_in_unembedded(
    tenant_a, ollama_double
):
    changed = RUNBOOK.replace("ImagePullBackOff", "CrashLoopBackOff").encode()
    with schema_context(tenant_a.schema_name):
        document_ingest(key="rb.md", name="rb.md", data=RUNBOOK.encode(), source="upload")
        document_embed(Document.objects.get(key="rb.md"))
        document_ingest(
            key="rb.md",
            name="rb.md",
            data=RUNBOOK.replace("ImagePullBackOff", "ErrImagePull").encode(),
            source="upload",
        )

        # A third version arrives while the second one is being embedded.
        document_embed(
            Document.objects.get(key="rb.md"),
            on_progress=lambda _count: document_ingest(
                key="rb.md", name="rb.md", data=changed, source="upload"
            ),
        )

        assert not Chunk.objects.filter(is_live=True, embedding__isnull=True).exists()
        assert knowledge_search("ImagePullBackOff")  # the first version answers until then
        document_embed(Document.objects.get(key="rb.md"))
        assert knowledge_search("CrashLoopBackOff")
        assert Document.objects.get(key="rb.md").status == Document.Status.READY
