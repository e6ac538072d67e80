"""A new tenant starts with each agent's curated runbooks, so answers are grounded on day
one, and each agent cites its own pack."""

from pathlib import Path

from django.conf import settings
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.knowledge.models import Document
from apps.knowledge.parsing import document_parse
from apps.knowledge.selectors import knowledge_search
from apps.knowledge.services import starter_packs_load
from tests.factories import tenant_make


def test_every_shipped_runbook_parses_and_follows_the_conventions():
    files = sorted(Path(settings.STARTER_KNOWLEDGE_DIR).glob("*/*.md"))
    assert {f.parent.name for f in files} == {"nox", "atlas", "cirrus"}
    for file in files:
        parsed = document_parse(name=file.name, data=file.read_bytes())
        assert parsed.kind == "markdown"
        assert any(s.heading_path[-1] == "When to escalate" for s in parsed.sections), file.name


def test_a_new_tenant_has_the_starter_packs_searchable_by_their_words(db):
    tenant = tenant_make()

    with schema_context(tenant.schema_name):
        shipped = len(list(Path(settings.STARTER_KNOWLEDGE_DIR).glob("*/*.md")))
        assert Document.objects.filter(source=Document.Source.STARTER_PACK).count() == shipped
        nox = Agent.objects.get(slug="nox")
        hits = knowledge_search("ImagePullBackOff", agent=nox)

    assert hits and "ImagePullBackOff" in hits[0].text
    assert hits[0].document_key.startswith("starter/nox/")


def test_each_agent_cites_only_its_own_pack(db):
    tenant = tenant_make()

    with schema_context(tenant.schema_name):
        atlas = Agent.objects.get(slug="atlas")
        hits = knowledge_search("ImagePullBackOff CrashLoopBackOff", agent=atlas, limit=20)

    assert all(not hit.document_key.startswith("starter/nox/") for hit in hits)


def test_loading_the_packs_again_changes_nothing(db):
    tenant = tenant_make()

    with schema_context(tenant.schema_name):
        report = starter_packs_load()

    assert report.changed == [] and report.failed == []
    assert len(report.unchanged) == len(list(Path(settings.STARTER_KNOWLEDGE_DIR).glob("*/*.md")))
