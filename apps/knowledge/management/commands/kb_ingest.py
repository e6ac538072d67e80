"""manage.py kb_ingest SCHEMA PATH…: put files and folders into a tenant's knowledge base."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context
from tqdm import tqdm

from apps.agents.models import Agent
from apps.core.selectors import tenant_schema_exists
from apps.knowledge.models import Document
from apps.knowledge.services import (
    EmbeddingError,
    IngestReport,
    document_embed,
    document_embed_enqueue,
    file_ingest,
    folder_files,
)


class Command(BaseCommand):
    help = (
        "Ingest Markdown, text, HTML and PDF files (or whole folders) into a tenant's "
        "knowledge base. Unchanged files are skipped; changed ones replace their old version."
    )

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Tenant schema name")
        parser.add_argument("paths", nargs="+", help="Files or folders")
        parser.add_argument("--agent", help="Only this agent (slug) may cite these documents")
        parser.add_argument(
            "--no-embed",
            action="store_true",
            help="Leave the embeddings to the Celery worker instead of computing them now",
        )

    def handle(self, *args, schema, paths, agent=None, no_embed=False, **options):
        if not tenant_schema_exists(schema):
            raise CommandError(f"no tenant with schema {schema!r}")
        roots = [Path(p).expanduser() for p in paths]
        missing = [str(p) for p in roots if not p.exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}")
        with schema_context(schema):
            scoped_agent = None
            if agent:
                scoped_agent = Agent.objects.filter(slug=agent).first()
                if scoped_agent is None:
                    raise CommandError(f"no agent {agent!r} in tenant {schema!r}")
            report = self._ingest(roots, scoped_agent)
            embedded_failures = self._embed(report, no_embed=no_embed)
        self._summarise(report, embedded_failures)

    def _ingest(self, roots: list[Path], agent) -> IngestReport:
        report = IngestReport()
        files = folder_files(roots)
        for file, root in tqdm(files, desc="reading", unit="file", file=self.stderr._out):
            key = str(Path(root.name) / file.relative_to(root)) if file != root else file.name
            file_ingest(
                report, key=key, file=file, source=Document.Source.COMMAND_LINE, agent=agent
            )
        return report

    def _embed(self, report: IngestReport, *, no_embed: bool) -> list[tuple[str, str]]:
        documents = list(Document.objects.filter(key__in=report.changed))
        if no_embed:
            for document in documents:
                document_embed_enqueue(document)
            return []
        failures = []
        total = sum(d.chunks.filter(embedding__isnull=True).count() for d in documents)
        with tqdm(total=total, desc="embedding", unit="chunk", file=self.stderr._out) as bar:
            for document in documents:
                try:
                    document_embed(document, on_progress=bar.update)
                except EmbeddingError as exc:
                    failures.append((document.key, str(exc)))
                    document_embed_enqueue(document)  # the worker retries when the model is back
        return failures

    def _summarise(self, report: IngestReport, embed_failures: list[tuple[str, str]]) -> None:
        for key, reason in report.failed:
            self.stderr.write(f"skipped {key}: {reason}")
        for key, reason in embed_failures:
            self.stderr.write(f"not embedded yet {key}: {reason} (the worker will retry)")
        self.stdout.write(
            f"added {len(report.added)}, updated {len(report.updated)}, "
            f"unchanged {len(report.unchanged)}, failed {len(report.failed)}"
        )
