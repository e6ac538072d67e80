"""Cutting a parsed document into chunks that fit the embedding model and make sense alone.

A chunk belongs to one section: its heading path travels with it, and ``embedding_text`` puts
that path in front of the text, so a retrieved chunk says where it comes from. A section too
long for one chunk is cut at the coarsest boundary that works (paragraph, line, sentence, then
a hard cut) and consecutive pieces share a little text, so a fact on the boundary is never only
half in each. Fenced code blocks are never cut unless one alone is too long.

Pure and deterministic: the same document always gives the same chunks, which the ingest
relies on to leave unchanged files alone.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from apps.knowledge.parsing import ParsedDocument, Section, fence_is_close, fence_open_marker

HEADING_PATH_SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "
MIN_MAX_CHARS = 200

# The end of a sentence: punctuation, maybe closing quotes or brackets, then whitespace.
_SENTENCE_END_RE = re.compile(r"([.!?][\"')\]]*)\s+(?=\S)")
_WORD_START_RE = re.compile(r"\s+(?=\S)")
_LINE_START_RE = re.compile(r"\n(?=[^\n])")


@dataclass(frozen=True)
class ChunkDraft:
    position: int
    heading_path: tuple[str, ...]
    text: str

    def embedding_text(self) -> str:
        """What is embedded and shown as the cited source: the heading path, then the text."""
        if not self.heading_path:
            return self.text
        return f"{HEADING_PATH_SEPARATOR.join(self.heading_path)}\n\n{self.text}"


def document_chunk(
    document: ParsedDocument, *, max_chars: int = 1500, overlap_chars: int = 150
) -> list[ChunkDraft]:
    """The document's chunks in order, each ``text`` at most ``max_chars`` long.

    Small consecutive sections under the same top heading are merged while they fit in
    ``max_chars`` (a 20-line runbook is one chunk, its "Symptoms" and "Fix" together, not
    three fragments), each keeping its heading as a line of the text; the chunk's heading path
    is what they share. A section too long for one chunk is never merged: it is cut, and
    consecutive pieces overlap by up to ``overlap_chars``. Sections without text give no chunk.
    """
    _arguments_check(max_chars=max_chars, overlap_chars=overlap_chars)
    drafts: list[ChunkDraft] = []
    for section in _small_sections_merged(document.sections, max_chars=max_chars):
        text = section.text.strip()
        splitter = _SectionSplitter(text, max_chars=max_chars, overlap_chars=overlap_chars)
        for piece_text in splitter.piece_texts():
            drafts.append(
                ChunkDraft(position=len(drafts), heading_path=section.heading_path, text=piece_text)
            )
    return drafts


def _small_sections_merged(sections: list[Section], *, max_chars: int) -> list[Section]:
    """Consecutive sections with text, under the same top heading, merged while they fit."""
    merged: list[Section] = []
    group: list[Section] = []

    def flush() -> None:
        if len(group) == 1:
            merged.append(group[0])
        elif group:
            merged.append(_merged(group))
        group.clear()

    for section in sections:
        text = section.text.strip()
        if not text:
            continue
        section = Section(heading_path=section.heading_path, text=text)
        if len(text) > max_chars:
            flush()
            merged.append(section)
            continue
        if group and (
            section.heading_path[:1] != group[0].heading_path[:1]
            or len(_merged([*group, section]).text) > max_chars
        ):
            flush()
        group.append(section)
    flush()
    return merged


def _merged(group: list[Section]) -> Section:
    """One section of several: their shared heading path, each other heading as a line."""
    shared = group[0].heading_path
    for section in group[1:]:
        length = 0
        while (
            length < min(len(shared), len(section.heading_path))
            and shared[length] == section.heading_path[length]
        ):
            length += 1
        shared = shared[:length]
    parts = []
    for section in group:
        own = section.heading_path[len(shared) :]
        heading = f"{HEADING_PATH_SEPARATOR.join(own)}\n" if own else ""
        parts.append(f"{heading}{section.text}")
    return Section(heading_path=shared, text="\n\n".join(parts))


def _arguments_check(*, max_chars: int, overlap_chars: int) -> None:
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}, got {max_chars}")
    if not 0 <= overlap_chars < max_chars / 2:
        raise ValueError(
            f"overlap_chars must be at least 0 and under half of max_chars ({max_chars}), "
            f"got {overlap_chars}"
        )


@dataclass(frozen=True)
class _Fence:
    """A fenced code block, as offsets in the section text."""

    start: int  # the opening line's first character
    end: int  # just after the closing line (the end of the text when never closed)
    inner_start: int
    inner_end: int
    opener: str  # the opening line, e.g. "```python"
    closer: str  # the closing line, or the opening marker when the fence is never closed

    def contains_inside(self, position: int) -> bool:
        """Whether ``position`` lies strictly inside the block (its start is a clean cut)."""
        return self.start < position < self.end


@dataclass(frozen=True)
class _Piece:
    """A span of the section text that fits the packing budget."""

    start: int
    end: int
    # Set on a fragment of a code block too long for one chunk: it gets wrapped in the
    # block's fence lines, so every fragment reads as code on its own.
    fence: _Fence | None = None


_Span = tuple[int, int]


class _SectionSplitter:
    """Splits one section's text; all positions are offsets into that text."""

    def __init__(self, text: str, *, max_chars: int, overlap_chars: int) -> None:
        self.text = text
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars
        # Room left for the overlap that a piece may receive from its predecessor.
        self.budget = max_chars - overlap_chars
        self.fences = _fences_find(text)
        self._fence_starts = [fence.start for fence in self.fences]
        self._unit_starts: list[int] = []  # line and sentence starts, set when splitting
        self._word_starts: list[int] = []

    def piece_texts(self) -> list[str]:
        if len(self.text) <= self.max_chars:
            return [self.text]
        pieces = self._paragraphs_pack(0, len(self.text))
        self._unit_starts = self._starts_outside_fences(
            [m.end() for m in _LINE_START_RE.finditer(self.text)]
            + [m.end() for m in _SENTENCE_END_RE.finditer(self.text)]
        )
        self._word_starts = self._starts_outside_fences(
            [m.end() for m in _WORD_START_RE.finditer(self.text)]
        )
        previous_pieces: list[_Piece | None] = [None, *pieces[:-1]]
        return [
            self._piece_text(piece, previous=previous)
            for piece, previous in zip(pieces, previous_pieces, strict=True)
        ]

    # Packing, coarsest boundary first

    def _pack(
        self,
        units: list[_Span],
        *,
        budget: int,
        oversized_split: Callable[[int, int], list[_Piece]],
    ) -> list[_Piece]:
        """Greedily group consecutive units into pieces within ``budget``; a unit too long on
        its own is handed to ``oversized_split`` (the next finer boundary)."""
        pieces: list[_Piece] = []
        group: _Span | None = None
        for unit_start, unit_end in units:
            if unit_end - unit_start > budget:
                if group is not None:
                    pieces.append(_Piece(*group))
                    group = None
                pieces.extend(oversized_split(unit_start, unit_end))
            elif group is not None and unit_end - group[0] <= budget:
                group = (group[0], unit_end)
            else:
                if group is not None:
                    pieces.append(_Piece(*group))
                group = (unit_start, unit_end)
        if group is not None:
            pieces.append(_Piece(*group))
        return pieces

    def _paragraphs_pack(self, start: int, end: int) -> list[_Piece]:
        return self._pack(
            self._paragraph_units(start, end), budget=self.budget, oversized_split=self._lines_pack
        )

    def _lines_pack(self, start: int, end: int) -> list[_Piece]:
        return self._pack(
            self._line_units(start, end, fences_whole=True),
            budget=self.budget,
            oversized_split=self._line_split,
        )

    def _line_split(self, start: int, end: int) -> list[_Piece]:
        fence = self._fence_at(start)
        if fence is not None and (fence.start, fence.end) == (start, end):
            return self._fence_split(fence)
        return self._sentences_pack(start, end)

    def _sentences_pack(self, start: int, end: int) -> list[_Piece]:
        return self._pack(
            self._sentence_units(start, end),
            budget=self.budget,
            oversized_split=lambda s, e: self._hard_split(s, e, budget=self.budget),
        )

    def _fence_split(self, fence: _Fence) -> list[_Piece]:
        """Cut a code block too long for one chunk between its lines, each fragment wrapped in
        the block's own fence lines (unless those alone would eat the chunk)."""
        wrapper_chars = len(fence.opener) + len(fence.closer) + 2
        wrapped = wrapper_chars <= self.budget // 2
        budget = self.budget - wrapper_chars if wrapped else self.budget
        start, end = (fence.inner_start, fence.inner_end) if wrapped else (fence.start, fence.end)
        pieces = self._pack(
            [
                (s, e)
                for s, e in self._line_units(start, end, fences_whole=False)
                if self.text[s:e].strip()
            ],
            budget=budget,
            oversized_split=lambda s, e: self._hard_split(s, e, budget=budget),
        )
        return [_Piece(p.start, p.end, fence if wrapped else None) for p in pieces]

    def _hard_split(self, start: int, end: int, *, budget: int) -> list[_Piece]:
        """Last resort: cut at the last space in the second half of the window, else anywhere."""
        pieces: list[_Piece] = []
        position = start
        while position < end:
            if end - position <= budget:
                pieces.append(_Piece(position, end))
                break
            window_end = position + budget
            space = max(
                self.text.rfind(" ", position + budget // 2, window_end + 1),
                self.text.rfind("\t", position + budget // 2, window_end + 1),
            )
            cut = space if space != -1 else window_end
            piece_end = cut
            while self.text[piece_end - 1].isspace():
                piece_end -= 1
            pieces.append(_Piece(position, piece_end))
            position = cut
            while position < end and self.text[position].isspace():
                position += 1
        return pieces

    # Units

    def _line_units(self, start: int, end: int, *, fences_whole: bool) -> list[_Span]:
        """Lines of ``[start, end)``; with ``fences_whole`` a fenced block is one unit."""
        units: list[_Span] = []
        position = start
        while position < end:
            fence = self._fence_at(position) if fences_whole else None
            if fence is not None and fence.start == position:
                units.append((position, fence.end))
                position = fence.end + 1
                continue
            newline = self.text.find("\n", position, end)
            line_end = end if newline == -1 else newline
            units.append((position, line_end))
            position = line_end + 1
        return units

    def _paragraph_units(self, start: int, end: int) -> list[_Span]:
        """Runs of lines between blank lines; blank lines inside a code block do not count."""
        paragraphs: list[_Span] = []
        current: _Span | None = None
        for unit_start, unit_end in self._line_units(start, end, fences_whole=True):
            if not self.text[unit_start:unit_end].strip():
                if current is not None:
                    paragraphs.append(current)
                current = None
            else:
                current = (current[0] if current else unit_start, unit_end)
        if current is not None:
            paragraphs.append(current)
        return paragraphs

    def _sentence_units(self, start: int, end: int) -> list[_Span]:
        units: list[_Span] = []
        position = start
        for match in _SENTENCE_END_RE.finditer(self.text, start, end):
            units.append((position, match.end(1)))
            position = match.end()
        units.append((position, end))
        return units

    # Overlap

    def _piece_text(self, piece: _Piece, *, previous: _Piece | None) -> str:
        start = piece.start
        if previous is not None and previous.fence is None and piece.fence is None:
            start = self._overlap_start(previous, piece)
        body = self.text[start : piece.end]
        if piece.fence is not None:
            return f"{piece.fence.opener}\n{body}\n{piece.fence.closer}"
        return body

    def _overlap_start(self, previous: _Piece, piece: _Piece) -> int:
        """Where the repeated tail of ``previous`` begins: the longest tail of whole lines or
        sentences within ``overlap_chars``; if that is under half of it, whole words instead."""
        if self.overlap_chars == 0:
            return piece.start
        lowest = max(previous.start + 1, piece.start - self.overlap_chars)
        whole = _first_at_or_after(self._unit_starts, lowest, before=previous.end)
        if whole is not None and piece.start - whole >= self.overlap_chars / 2:
            return whole
        word = _first_at_or_after(self._word_starts, lowest, before=previous.end)
        return word if word is not None else piece.start

    # Fences

    def _fence_at(self, position: int) -> _Fence | None:
        index = bisect.bisect_right(self._fence_starts, position) - 1
        if index >= 0 and position < self.fences[index].end:
            return self.fences[index]
        return None

    def _starts_outside_fences(self, positions: list[int]) -> list[int]:
        """Sorted positions where an overlap may begin: never inside a code block."""
        inside = (self._fence_at(position) for position in positions)
        return sorted(
            {
                position
                for position, fence in zip(positions, inside, strict=True)
                if fence is None or not fence.contains_inside(position)
            }
        )


def _first_at_or_after(positions: list[int], lowest: int, *, before: int) -> int | None:
    index = bisect.bisect_left(positions, lowest)
    if index < len(positions) and positions[index] < before:
        return positions[index]
    return None


def _fences_find(text: str) -> list[_Fence]:
    """Every fenced code block of ``text``; one never closed runs to the end (CommonMark)."""
    fences: list[_Fence] = []
    marker: str | None = None
    opener_start = opener_end = 0
    position = 0
    while position <= len(text):
        newline = text.find("\n", position)
        line_end = len(text) if newline == -1 else newline
        line = text[position:line_end]
        if marker is None:
            marker = fence_open_marker(line)
            opener_start, opener_end = position, line_end
        elif fence_is_close(line, marker):
            fences.append(
                _Fence(
                    start=opener_start,
                    end=line_end,
                    inner_start=min(opener_end + 1, position),
                    inner_end=max(position - 1, opener_end),
                    opener=text[opener_start:opener_end],
                    closer=line,
                )
            )
            marker = None
        position = line_end + 1
    if marker is not None:
        fences.append(
            _Fence(
                start=opener_start,
                end=len(text),
                inner_start=min(opener_end + 1, len(text)),
                inner_end=len(text),
                opener=text[opener_start:opener_end],
                closer=marker,
            )
        )
    return fences
