"""What the model reads about a question: documents (whole, or the matched part of a long one
with its neighbours), only those that clear the relevance bar, memory capped."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.integrations.bases.llm import llm_provider_get
from apps.knowledge.context import knowledge_context
from apps.knowledge.models import Chunk, Document
from apps.knowledge.services import document_embed, document_ingest


def ingest(key: str, markdown: str) -> Document:
    document_ingest(key=key, name=key, data=markdown.encode(), source="upload")
    document = Document.objects.get(key=key)
    document_embed(document)
    return document


def long_runbook() -> str:
    sections = [
        f"## Step {n}\n\n" + f"Step {n} of the migration checks shard {n} carefully. " * 18
        for n in range(1, 11)
    ]
    sections[5] = "## Step 6\n\nIf ZORBLAX-9 appears, drain the shard with `shardctl drain 6`. " * 8
    return "# Shard migration\n\n" + "\n\n".join(sections)


@pytest.fixture
def tenant(tenant_a, ollama_double):
    with schema_context(tenant_a.schema_name):
        yield tenant_a


def test_a_long_document_gives_its_matched_section_and_neighbours_not_all_of_it(tenant, settings):
    settings.KNOWLEDGE_LONG_DOCUMENT_MAX_CHARS = 3000
    ingest("shards.md", long_runbook())

    sources = knowledge_context("ZORBLAX-9 appeared", agent=None, llm=llm_provider_get())

    assert [source.title for source in sources] == ["Shard migration"]
    text = sources[0].text
    assert "shardctl drain 6" in text
    assert "Step 5" in text or "Step 7" in text  # a neighbour came with it
    assert "Step 1 of the migration" not in text and "Step 10 of the migration" not in text
    assert len(text) < 3000 + 1500  # the budget, give or take one chunk and the headings


def test_a_short_document_goes_in_whole(tenant):
    ingest(
        "lag.md",
        "# Queue lag\n\n## Symptoms\n\nQueueLagHigh fires.\n\n## Fix\n\nRestart the consumer.\n",
    )

    sources = knowledge_context("QueueLagHigh fires", agent=None, llm=llm_provider_get())

    assert "Restart the consumer." in sources[0].text and "QueueLagHigh" in sources[0].text


def test_a_document_sharing_one_frequent_word_is_not_a_source(tenant):
    ingest("lag.md", "# Queue lag\n\n## Symptoms\n\nQueueLagHigh fires, check the logs.\n")
    for n in range(6):
        ingest(f"other-{n}.md", f"# Other {n}\n\nRead the logs of service {n} and the logs.\n")

    sources = knowledge_context("QueueLagHigh in the logs", agent=None, llm=llm_provider_get())

    assert [source.title for source in sources] == ["Queue lag"]


def test_nothing_relevant_gives_no_source(tenant):
    ingest("lag.md", "# Queue lag\n\n## Symptoms\n\nQueueLagHigh fires.\n")

    assert knowledge_context("capital of Mongolia", agent=None, llm=llm_provider_get()) == []


def test_memory_never_crowds_out_documents(tenant, settings):
    settings.KNOWLEDGE_MAX_MEMORY_SOURCES = 1
    settings.KNOWLEDGE_RELATIVE_CUTOFF = settings.KNOWLEDGE_MIN_SCORE = 0.0
    ingest("lag.md", "# Queue lag\n\n## Fix\n\nQueueLagHigh: restart the consumer.\n")
    for n in range(4):
        Chunk.objects.create(
            kind=Chunk.Kind.MEMORY,
            is_live=True,
            position=0,
            heading_path=["Earlier conversation"],
            text=f"Question: QueueLagHigh again ({n})?\n\nAnswer (NOX): restart it.",
        )

    sources = knowledge_context("QueueLagHigh", agent=None, llm=llm_provider_get())

    kinds = [source.kind for source in sources]
    assert kinds.count("memory") == 1 and kinds.count("document") == 1
