"""Cutting parsed documents into chunks: size bound, overlap, headings, code blocks,
determinism. Plain functions, no database."""

import itertools
import re
from collections.abc import Sequence

import pytest

from apps.knowledge.chunking import ChunkDraft, document_chunk
from apps.knowledge.parsing import ParsedDocument, Section, document_parse


def _document(*sections: tuple[tuple[str, ...], str]) -> ParsedDocument:
    return ParsedDocument(
        title="Runbook",
        kind="markdown",
        sections=[Section(heading_path=path, text=text) for path, text in sections],
    )


def _one_section(text: str) -> ParsedDocument:
    return _document((("Runbook", "Steps"), text))


def _sentences(count: int, *, first: int = 0) -> list[str]:
    return [f"Step {n} restarts service svc-{n} and checks its log." for n in range(first, count)]


def _paragraphs(count: int, *, sentences_each: int = 4) -> list[str]:
    return [
        " ".join(_sentences((p + 1) * sentences_each, first=p * sentences_each))
        for p in range(count)
    ]


def _words(text: str) -> list[str]:
    return text.split()


def _shared_boundary(earlier: Sequence, later: Sequence) -> Sequence:
    """The longest run that ends ``earlier`` and starts ``later`` (text or word lists)."""
    for size in range(min(len(earlier), len(later)), 0, -1):
        if earlier[-size:] == later[:size]:
            return later[:size]
    return later[:0]


# Sections and positions


def test_a_short_section_is_one_chunk_with_its_heading_path():
    document = _document((("Deploy", "Rollback"), "Run the undo."))

    assert document_chunk(document) == [
        ChunkDraft(position=0, heading_path=("Deploy", "Rollback"), text="Run the undo.")
    ]


def test_positions_count_from_zero_across_the_whole_document():
    long_text = "\n\n".join(_paragraphs(12))
    document = _document((("A",), "Short."), (("A", "B"), long_text), (("A", "C"), "Tail."))

    chunks = document_chunk(document, max_chars=400, overlap_chars=40)

    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    assert len(chunks) > 3


def test_small_sibling_sections_are_merged_each_under_its_heading():
    document = _document((("Ops", "Disk"), "Clean logs."), (("Ops", "DNS"), "Flush cache."))

    chunks = document_chunk(document)

    assert [(chunk.heading_path, chunk.text) for chunk in chunks] == [
        (("Ops",), "Disk\nClean logs.\n\nDNS\nFlush cache."),
    ]


def test_a_short_runbook_is_one_chunk_with_its_fix_next_to_its_symptoms():
    markdown = (
        b"# Queue lag\n\nOwner: #team-tracking.\n\n## Symptoms\n\nAlert QueueLagHigh fires.\n\n"
        b"## Fix\n\nRestart the consumer.\n"
    )

    chunks = document_chunk(document_parse(name="lag.md", data=markdown))

    assert [(chunk.heading_path, chunk.text) for chunk in chunks] == [
        (
            ("Queue lag",),
            "Owner: #team-tracking.\n\nSymptoms\nAlert QueueLagHigh fires.\n\n"
            "Fix\nRestart the consumer.",
        )
    ]


def test_sections_are_merged_only_while_they_fit_and_never_across_top_headings():
    document = _document(
        (("A", "One"), "x" * 90),
        (("A", "Two"), "y" * 90),
        (("A", "Three"), "z" * 90),
        (("B", "Four"), "w" * 10),
    )

    chunks = document_chunk(document, max_chars=200, overlap_chars=0)

    assert [chunk.heading_path for chunk in chunks] == [("A",), ("A", "Three"), ("B", "Four")]
    assert chunks[0].text == f"One\n{'x' * 90}\n\nTwo\n{'y' * 90}"
    assert all(len(chunk.text) <= 200 for chunk in chunks)


def test_empty_and_whitespace_only_sections_produce_no_chunk():
    document = _document((("A",), ""), (("A", "B"), "  \n\n\t"), (("A", "C"), "Text."))

    assert [chunk.heading_path for chunk in document_chunk(document)] == [("A", "C")]


def test_no_chunk_crosses_a_heading_and_no_overlap_leaks_into_the_next_section():
    markdown = (
        "# Runbook\n\n## First\n\n"
        + "\n\n".join(_paragraphs(8))
        + "\n\n## Second\n\nSecond section starts here.\n"
    )
    document = document_parse(name="runbook.md", data=markdown.encode())

    chunks = document_chunk(document, max_chars=300, overlap_chars=60)

    second = [chunk for chunk in chunks if chunk.heading_path == ("Runbook", "Second")]
    assert [chunk.text for chunk in second] == ["Second section starts here."]
    assert all("Second section" not in c.text for c in chunks if c.heading_path[-1] == "First")


def test_surrounding_whitespace_of_a_section_is_not_part_of_its_chunk():
    assert document_chunk(_one_section("\n\n  Text.  \n"))[0].text == "Text."


# Size bound and splitting order


@pytest.mark.parametrize(
    "text",
    [
        "\n\n".join(_paragraphs(20)),
        "\n".join(_sentences(60)),
        " ".join(_sentences(60)),
        "word " * 900,
        "x" * 5000,
        "```\n" + "\n".join(f"echo line {n}" for n in range(400)) + "\n```",
        "Intro.\n\n```\n" + ("y" * 3000) + "\n```\n\nOutro.",
    ],
    ids=["paragraphs", "lines", "one-paragraph", "words", "one-long-token", "code", "code-line"],
)
@pytest.mark.parametrize(("max_chars", "overlap_chars"), [(200, 0), (500, 120), (1500, 150)])
def test_no_chunk_is_longer_than_max_chars(text, max_chars, overlap_chars):
    chunks = document_chunk(_one_section(text), max_chars=max_chars, overlap_chars=overlap_chars)

    assert len(chunks) > 1
    assert max(len(chunk.text) for chunk in chunks) <= max_chars


@pytest.mark.parametrize(
    "text",
    [
        "\n\n".join(_paragraphs(20)),
        " ".join(_sentences(60)),
        " ".join(f"token{n}" for n in range(600)),
        "Intro.\n\n```sh\n" + "\n".join(f"echo line {n}" for n in range(400)) + "\n```\n\nEnd.",
    ],
    ids=["paragraphs", "one-paragraph", "words", "code"],
)
def test_every_word_of_a_split_section_is_in_some_chunk_in_order(text):
    chunks = document_chunk(_one_section(text), max_chars=300, overlap_chars=60)

    seen: list[str] = []
    for chunk in chunks:
        words = [w for w in _words(chunk.text) if not w.startswith("```")]
        overlap = _shared_boundary(seen, words)
        seen += words[len(overlap) :]
    assert seen == [w for w in _words(text) if not w.startswith("```")]


def test_a_long_section_is_split_at_paragraph_boundaries():
    paragraphs = _paragraphs(6, sentences_each=3)  # about 150 characters each
    chunks = document_chunk(_one_section("\n\n".join(paragraphs)), max_chars=400, overlap_chars=0)

    assert [chunk.text.split("\n\n") for chunk in chunks] == [
        paragraphs[0:2],
        paragraphs[2:4],
        paragraphs[4:6],
    ]


def test_a_paragraph_longer_than_max_chars_is_split_between_sentences():
    sentences = _sentences(20)

    chunks = document_chunk(_one_section(" ".join(sentences)), max_chars=300, overlap_chars=0)

    for chunk in chunks:
        assert chunk.text.startswith("Step ")
        assert chunk.text.endswith("its log.")


def test_a_block_of_lines_without_blank_lines_is_split_between_lines():
    lines = [f"host-{n:03d} 10.0.{n}.1 primary" for n in range(40)]

    chunks = document_chunk(_one_section("\n".join(lines)), max_chars=250, overlap_chars=0)

    assert len(chunks) > 1
    for chunk in chunks:
        assert set(chunk.text.split("\n")) <= set(lines)


def test_a_line_without_sentences_is_hard_cut_at_a_space():
    words = [f"token{n:03d}" for n in range(200)]

    chunks = document_chunk(_one_section(" ".join(words)), max_chars=200, overlap_chars=0)

    for chunk in chunks:
        assert set(_words(chunk.text)) <= set(words)


def test_a_single_token_longer_than_max_chars_is_cut_anyway():
    chunks = document_chunk(_one_section("z" * 450), max_chars=200, overlap_chars=0)

    assert [len(chunk.text) for chunk in chunks] == [200, 200, 50]


def test_a_section_exactly_max_chars_long_is_one_chunk():
    text = ("a" * 99 + " ") * 14 + "a" * 100  # 1500 characters

    assert len(document_chunk(_one_section(text))) == 1


# Overlap


def test_consecutive_pieces_of_a_section_overlap():
    chunks = document_chunk(
        _one_section(" ".join(_sentences(40))), max_chars=400, overlap_chars=100
    )

    assert len(chunks) > 2
    for earlier, later in itertools.pairwise(chunks):
        shared = _shared_boundary(earlier.text, later.text)
        assert 50 <= len(shared) <= 100


def test_the_overlap_is_made_of_whole_sentences_when_they_fit():
    chunks = document_chunk(
        _one_section(" ".join(_sentences(40))), max_chars=400, overlap_chars=120
    )

    for later in chunks[1:]:
        assert later.text.startswith("Step ")


def test_the_overlap_is_made_of_whole_lines_when_they_fit():
    lines = [f"host-{n:03d} 10.0.{n}.1 primary" for n in range(40)]

    chunks = document_chunk(_one_section("\n".join(lines)), max_chars=250, overlap_chars=70)

    for earlier, later in itertools.pairwise(chunks):
        assert later.text.split("\n")[0] in earlier.text.split("\n")


def test_without_overlap_pieces_share_nothing():
    chunks = document_chunk(_one_section(" ".join(_sentences(40))), max_chars=400, overlap_chars=0)

    joined = " ".join(chunk.text for chunk in chunks)
    assert joined == " ".join(_sentences(40))


def test_pieces_of_different_sections_do_not_overlap():
    document = _document((("A",), " ".join(_sentences(3))), (("B",), " ".join(_sentences(3))))

    chunks = document_chunk(document, max_chars=200, overlap_chars=90)

    assert [chunk.text for chunk in chunks] == [" ".join(_sentences(3))] * 2


# Code blocks


def test_a_code_block_is_kept_whole_even_when_that_starts_a_new_chunk():
    code = "```bash\n" + "\n".join(f"kubectl delete pod worker-{n}" for n in range(8)) + "\n```"
    text = "\n\n".join([*_paragraphs(2, sentences_each=3), code, "Then watch the rollout."])

    chunks = document_chunk(_one_section(text), max_chars=400, overlap_chars=0)

    assert sum(code in chunk.text for chunk in chunks) == 1
    assert all(chunk.text.count("```") % 2 == 0 for chunk in chunks)


def test_a_code_block_is_not_split_at_its_blank_lines():
    code = (
        "```python\n" + "\n\n".join(f"def step_{n}():\n    return {n}" for n in range(6)) + "\n```"
    )
    text = "\n\n".join([_paragraphs(1)[0], code, _paragraphs(1)[0]])

    chunks = document_chunk(_one_section(text), max_chars=300, overlap_chars=0)

    assert code in [chunk.text for chunk in chunks]


def test_a_code_block_longer_than_max_chars_is_split_into_fenced_fragments():
    lines = [f"echo step {n}" for n in range(100)]
    code = "~~~sh\n" + "\n".join(lines) + "\n~~~"

    chunks = document_chunk(_one_section(code), max_chars=300, overlap_chars=50)

    assert len(chunks) > 1
    found: list[str] = []
    for chunk in chunks:
        assert chunk.text.startswith("~~~sh\n")
        assert chunk.text.endswith("\n~~~")
        found += chunk.text.split("\n")[1:-1]
    assert found == lines


def test_an_overlap_never_starts_inside_a_code_block():
    code = "```\n" + "\n".join(f"step {n}" for n in range(10)) + "\n```"
    text = "\n\n".join([" ".join(_sentences(3)), code, " ".join(_sentences(6, first=3))])

    chunks = document_chunk(_one_section(text), max_chars=250, overlap_chars=100)

    for chunk in chunks:
        assert chunk.text.count("```") % 2 == 0
        assert not re.match(r"step \d", chunk.text)


# Determinism and embedding text


def test_chunking_the_same_document_twice_gives_the_same_chunks():
    markdown = "# R\n\n## A\n\n" + "\n\n".join(_paragraphs(10)) + "\n\n## B\n\n```\ncode\n```\n"

    def chunks() -> list[ChunkDraft]:
        document = document_parse(name="r.md", data=markdown.encode())
        return document_chunk(document, max_chars=300, overlap_chars=60)

    first, second = chunks(), chunks()

    assert len(first) > 3
    assert first == second


def test_embedding_text_puts_the_heading_path_before_the_text():
    chunk = ChunkDraft(position=0, heading_path=("Deploy", "Rollback", "K8s"), text="Undo it.")

    # Headings are joined by " \u203a " (single right-pointing angle quotation mark).
    assert chunk.embedding_text() == "Deploy \u203a Rollback \u203a K8s\n\nUndo it."


def test_embedding_text_of_a_chunk_without_heading_path_is_its_text():
    assert ChunkDraft(position=0, heading_path=(), text="Undo it.").embedding_text() == "Undo it."


def test_chunk_drafts_are_immutable():
    chunk = ChunkDraft(position=0, heading_path=("A",), text="x")

    with pytest.raises(AttributeError):
        chunk.text = "y"  # type: ignore[misc]


# Arguments


@pytest.mark.parametrize(
    ("max_chars", "overlap_chars", "message"),
    [
        (199, 0, "max_chars must be at least 200"),
        (0, 0, "max_chars must be at least 200"),
        (400, -1, "overlap_chars must be at least 0 and under half"),
        (400, 200, "overlap_chars must be at least 0 and under half"),
        (200, 150, "overlap_chars must be at least 0 and under half"),
    ],
)
def test_invalid_size_arguments_are_refused(max_chars, overlap_chars, message):
    with pytest.raises(ValueError, match=message):
        document_chunk(_one_section("Text."), max_chars=max_chars, overlap_chars=overlap_chars)


def test_the_smallest_valid_arguments_are_accepted():
    chunks = document_chunk(_one_section("word " * 100), max_chars=200, overlap_chars=99)

    assert all(len(chunk.text) <= 200 for chunk in chunks)


def test_the_default_limit_is_1500_characters():
    chunks = document_chunk(_one_section(" ".join(_sentences(100))))

    assert max(len(chunk.text) for chunk in chunks) <= 1500
    assert max(len(chunk.text) for chunk in chunks) > 1200
