"""Reading a file within its budget: parsed and chunked in a child process that is stopped at
the time limit (computing or blocked) and refused memory beyond its allowance, every way of
failing coming back as a one-line reason. No database."""

import os
import time

import pytest
from django.utils import translation

from apps.knowledge import reading
from apps.knowledge.parsing import DocumentError
from apps.knowledge.reading import document_read_within_budget

RUNBOOK = b"# Disk full\n\n## Clean\n\nRun `journalctl --vacuum-size=500M`.\n"


@pytest.fixture
def one_second_budget(settings):
    settings.KNOWLEDGE_PARSE_TIME_LIMIT_S = 1


def _parse_replaced_by(monkeypatch, behaviour):
    """The child runs ``behaviour`` instead of the parser (a fork inherits the patch)."""
    monkeypatch.setattr(reading, "document_parse", lambda *, name, data: behaviour())


def _spin():
    while True:
        pass


def test_a_file_is_read_into_its_title_kind_and_chunks():
    read = document_read_within_budget(name="disk.md", data=RUNBOOK)

    assert (read.title, read.kind) == ("Disk full", "markdown")
    assert [chunk.heading_path for chunk in read.chunks] == [("Disk full", "Clean")]


def test_a_file_that_cannot_be_read_gives_its_reason():
    with pytest.raises(DocumentError, match=r"^document is empty$"):
        document_read_within_budget(name="empty.md", data=b"")


def test_the_reason_is_said_in_the_language_of_the_caller():
    with translation.override("fr"), pytest.raises(DocumentError, match=r"^PDF illisible : "):
        document_read_within_budget(name="broken.pdf", data=b"%PDF-1.4 not a PDF")


def test_a_runaway_computation_is_stopped_at_the_time_limit(monkeypatch, one_second_budget):
    _parse_replaced_by(monkeypatch, _spin)
    started = time.monotonic()

    with pytest.raises(DocumentError) as error:
        document_read_within_budget(name="spin.md", data=b"x")

    assert str(error.value) == "reading the file took longer than 1 second"
    assert time.monotonic() - started < 10


def test_a_read_that_blocks_is_stopped_at_the_time_limit(monkeypatch, one_second_budget):
    _parse_replaced_by(monkeypatch, lambda: time.sleep(600))
    started = time.monotonic()

    with pytest.raises(DocumentError, match=r"^reading the file took longer than 1 second$"):
        document_read_within_budget(name="sleep.md", data=b"x")

    assert time.monotonic() - started < 10


def test_the_cpu_limit_stops_a_child_before_its_parent_s_timer(monkeypatch, settings):
    """RLIMIT_CPU, set in the child, stops it even if the parent's timer never fires (say the
    parent died): a wall-clock limit of a minute, a CPU limit of 1 s."""
    settings.KNOWLEDGE_PARSE_TIME_LIMIT_S = 60
    monkeypatch.setattr(
        reading, "_child_limits", lambda: reading._Limits(cpu_seconds=1, address_space_bytes=None)
    )
    _parse_replaced_by(monkeypatch, _spin)
    started = time.monotonic()

    with pytest.raises(DocumentError, match=r"^reading the file took longer than 60 seconds$"):
        document_read_within_budget(name="spin.md", data=b"x")

    assert time.monotonic() - started < 20


def test_memory_beyond_the_allowance_is_refused(monkeypatch, settings):
    settings.KNOWLEDGE_PARSE_MEMORY_MB = 64
    _parse_replaced_by(monkeypatch, lambda: bytearray(512 * 1024 * 1024))

    with pytest.raises(DocumentError, match=r"^reading the file needs more than 64 MB of memory$"):
        document_read_within_budget(name="big.md", data=b"x")


def test_a_parser_that_dies_gives_a_reason_and_spares_this_process(monkeypatch):
    _parse_replaced_by(monkeypatch, lambda: os._exit(3))

    with pytest.raises(DocumentError, match=r"^reading the file stopped unexpectedly \(exit"):
        document_read_within_budget(name="crash.md", data=b"x")


def test_a_parser_bug_gives_its_error_as_the_reason(monkeypatch):
    _parse_replaced_by(monkeypatch, lambda: [][1])

    with pytest.raises(DocumentError, match=r"^the file could not be read: list index out of"):
        document_read_within_budget(name="bug.md", data=b"x")
