"""Turning an uploaded file (Markdown, text, HTML, PDF) into titled, heading-aware sections.

Pure functions, no database: the ingest service calls ``document_parse`` and chunks the result.
Every problem with the file itself comes out as ``DocumentError`` with a one-line reason that
can be shown to the person who uploaded it; no library exception escapes.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath

from django.utils.translation import gettext as _

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}


class DocumentError(ValueError):
    """The file cannot be indexed; the message says what is wrong with it, in one line."""


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    kind: str
    sections: list[Section]


def document_parse(*, name: str, data: bytes) -> ParsedDocument:
    """Parse ``data`` according to the extension of ``name``.

    Sections come in document order, each with non-empty text; text before the first heading
    belongs to ``(title,)``. Raises DocumentError for unsupported, undecodable, broken or empty
    files.
    """
    extension = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    kind = SUPPORTED_EXTENSIONS.get(extension)
    if kind is None:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        described = extension or _("(no extension)")
        raise DocumentError(
            _("unsupported file type %(type)s (supported: %(supported)s)")
            % {"type": described, "supported": supported}
        )
    fallback_title = _file_title(name)
    if kind == "pdf":
        return _pdf_parse(data, fallback_title=fallback_title)
    text = _text_decode(data)
    if kind == "markdown":
        title, raw_sections = _markdown_parse(text)
    elif kind == "html":
        title, raw_sections = _html_parse(text)
    else:
        title, raw_sections = "", [_RawSection(headings=(), text=text)]
    title = title or fallback_title
    return ParsedDocument(
        title=title, kind=kind, sections=_sections_resolve(raw_sections, title=title)
    )


# Shared helpers ---------------------------------------------------------------------------


@dataclass
class _RawSection:
    """Body text under a heading trail of (level, heading text), before the title is known."""

    headings: tuple[tuple[int, str], ...]
    text: str


@dataclass
class _HeadingTrail:
    """The headings above the current position: a new heading closes same-or-deeper ones."""

    headings: list[tuple[int, str]] = field(default_factory=list)

    def enter(self, level: int, heading: str) -> None:
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, heading))

    def current(self) -> tuple[tuple[int, str], ...]:
        return tuple(self.headings)


def _sections_resolve(raw_sections: list[_RawSection], *, title: str) -> list[Section]:
    """Final heading paths and tidy text; sections left without text are dropped.

    A trail that does not start at a level-1 heading (text before any heading, or a document
    whose headings start at level 2) is put under the title, so every path names its document.
    """
    sections = []
    for raw in raw_sections:
        text = _whitespace_tidy(raw.text)
        if not text:
            continue
        path = tuple(heading for _level, heading in raw.headings)
        if not raw.headings or raw.headings[0][0] != 1:
            path = (title, *path)
        sections.append(Section(heading_path=path, text=text))
    if not sections:
        has_headings = any(raw.headings for raw in raw_sections)
        raise DocumentError(
            _("document has only headings, no text") if has_headings else _("document is empty")
        )
    return sections


def _file_title(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.stem or path.name or "untitled"


def _text_decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16 when a UTF-16 BOM says so; newlines as ``\\n``."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(_("not UTF-8 text")) from None
    if "\x00" in text:
        raise DocumentError(_("binary data, not text (contains NUL bytes)"))
    return _newlines_normalise(text)


def _newlines_normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")


def _whitespace_tidy(text: str) -> str:
    """Strip trailing spaces, collapse runs of blank lines to one, trim blank ends."""
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _one_line(exc: BaseException) -> str:
    """A library exception as a short single line (some messages span lines or are empty)."""
    message = " ".join(str(exc).split())
    return (message or type(exc).__name__)[:200]


# Markdown -----------------------------------------------------------------------------------

_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ATX_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING_HASHES_RE = re.compile(r"(?:^|[ \t]+)#+$")
_SETEXT_UNDERLINE_RE = re.compile(r"^ {0,3}(=+|-{2,})[ \t]*$")
# Lines that cannot be the text of a setext heading: lists, quotes, tables, indented code,
# thematic breaks; their following "---" is a rule, not an underline.
_NOT_SETEXT_TEXT_RE = re.compile(
    r"^(?: {4}|\t| {0,3}(?:[-*+][ \t]|\d{1,9}[.)][ \t]|>|\|)|[-*_=\s]+$)"
)
_MARKDOWN_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_YAML_KEY_LINE_RE = re.compile(r"^[A-Za-z_][\w.-]*[ \t]*:(?:[ \t]|$)")
_FRONT_MATTER_TITLE_RE = re.compile(r"""^title:[ \t]*["']?(.*?)["']?[ \t]*$""", re.MULTILINE)


def fence_open_marker(line: str) -> str | None:
    """The fence (```` ``` ```` or ``~~~``, maybe longer) that ``line`` opens, else None."""
    match = _FENCE_OPEN_RE.match(line)
    if match is None:
        return None
    marker, info = match.groups()
    # A backtick fence's info string may not contain backticks (CommonMark): ```a``` is code.
    if marker[0] == "`" and "`" in info:
        return None
    return marker


def fence_is_close(line: str, marker: str) -> bool:
    """Whether ``line`` closes the fence opened by ``marker`` (same character, at least as long)."""
    stripped = line.strip()
    indent = len(line) - len(line.lstrip(" "))
    return indent <= 3 and len(stripped) >= len(marker) and stripped == marker[0] * len(stripped)


def _markdown_parse(text: str) -> tuple[str, list[_RawSection]]:
    text, front_matter_title = _front_matter_strip(text)
    trail = _HeadingTrail()
    raw_sections: list[_RawSection] = []
    body: list[str] = []
    first_h1 = ""
    open_fence: str | None = None

    def heading_enter(level: int, heading: str) -> None:
        nonlocal first_h1, body
        raw_sections.append(_RawSection(headings=trail.current(), text="\n".join(body)))
        body = []
        trail.enter(level, heading)
        if level == 1 and not first_h1:
            first_h1 = heading

    for line in text.split("\n"):
        if open_fence is not None:
            body.append(line)
            if fence_is_close(line, open_fence):
                open_fence = None
            continue
        open_fence = fence_open_marker(line)
        if open_fence is not None:
            body.append(line)
            continue
        atx = _ATX_HEADING_RE.match(line)
        if atx is not None:
            heading = _heading_clean(_ATX_CLOSING_HASHES_RE.sub("", atx.group(2) or ""))
            if heading:
                heading_enter(len(atx.group(1)), heading)
            continue
        setext = _SETEXT_UNDERLINE_RE.match(line)
        if setext is not None and _is_setext_text(body):
            heading = _heading_clean(body.pop())
            heading_enter(1 if setext.group(1)[0] == "=" else 2, heading)
            continue
        body.append(line)
    raw_sections.append(_RawSection(headings=trail.current(), text="\n".join(body)))
    return first_h1 or front_matter_title, raw_sections


def _front_matter_strip(text: str) -> tuple[str, str]:
    """Drop a YAML front matter block (``---`` on the very first line, closed by ``---`` or
    ``...``); return the rest and its ``title:`` if it has one."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return text, ""
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            front_matter = "\n".join(lines[1:index])
            if not _YAML_KEY_LINE_RE.match(front_matter.lstrip("\n")):
                return text, ""  # two rules around ordinary text, not YAML
            title_match = _FRONT_MATTER_TITLE_RE.search(front_matter)
            title = title_match.group(1).strip() if title_match else ""
            return "\n".join(lines[index + 1 :]), title
    return text, ""  # never closed: a thematic break, not front matter


def _is_setext_text(body: list[str]) -> bool:
    """Only the simple case: a single-line paragraph directly above the underline."""
    if not body or not body[-1].strip() or _NOT_SETEXT_TEXT_RE.match(body[-1]):
        return False
    if _ATX_HEADING_RE.match(body[-1]) or fence_open_marker(body[-1]) is not None:
        return False
    return len(body) == 1 or not body[-2].strip()


def _heading_clean(heading: str) -> str:
    """Heading text without Markdown decoration: links keep their text, code ticks and bold
    markers go, so paths read as plain words."""
    heading = _MARKDOWN_LINK_RE.sub(r"\1", heading)
    heading = heading.replace("`", "").replace("**", "").replace("__", "")
    return " ".join(heading.split())


# HTML ---------------------------------------------------------------------------------------

_HTML_SKIPPED_TAGS = frozenset(
    {"script", "style", "head", "nav", "footer", "noscript", "template", "svg", "iframe", "object"}
)
# What may appear inside <head>; anything else means the author left </head> implicit.
_HTML_HEAD_CONTENT_TAGS = frozenset(
    {"title", "meta", "link", "style", "script", "base", "noscript", "template"}
)
_HTML_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
_HTML_PARAGRAPH_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "aside", "blockquote", "ul", "ol",
        "dl", "table", "figure", "form", "fieldset", "details", "summary", "address", "hr",
        "body", "html",
    }
)  # fmt: skip
_HTML_LINE_TAGS = frozenset(
    {"li", "tr", "br", "dt", "dd", "caption", "figcaption", "thead", "tbody", "tfoot", "option"}
)
_LINE_START_BACKTICKS_RE = re.compile(r"^ {0,3}(`{3,})", re.MULTILINE)


class _HtmlSectionParser(HTMLParser):
    """Collects text per heading; block elements become line breaks, ``<pre>`` a code fence."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities arrive decoded in handle_data
        self.raw_sections: list[_RawSection] = []
        self.first_h1 = ""
        self.title_tag_text = ""
        self._trail = _HeadingTrail()
        self._parts: list[str] = []
        self._pending_newlines = 0
        self._skipped: list[str] = []
        self._title_parts: list[str] | None = None
        self._heading: tuple[int, list[str]] | None = None
        self._pre_parts: list[str] | None = None
        self._lists: list[list] = []  # [tag, items so far] per open <ul>/<ol>
        self._row_has_cell = False

    # Parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._title_parts is not None:
            self._title_finish()  # an unclosed <title> must not swallow the page
        if self._skipped == ["head"] and tag not in _HTML_HEAD_CONTENT_TAGS:
            self._skipped.clear()
        if tag == "title":
            if not self._title_tag_seen and all(t == "head" for t in self._skipped):
                self._title_parts = []
            return
        if tag in _HTML_SKIPPED_TAGS:
            if not self._skipped and tag in ("nav", "footer"):
                self._newlines_request(2)  # text on either side belongs to different blocks
            self._skipped.append(tag)
            return
        if self._skipped:
            return
        if tag in _HTML_HEADING_LEVELS:
            self._newlines_request(2)
            self._heading = (_HTML_HEADING_LEVELS[tag], [])
        elif tag == "pre":
            self._newlines_request(2)
            self._pre_parts = []
        elif tag in ("ul", "ol"):
            self._newlines_request(2)
            self._lists.append([tag, 0])
        elif tag == "li":
            self._list_item_start()
        elif tag == "tr":
            self._newlines_request(1)
            self._row_has_cell = False
        elif tag in ("td", "th"):
            if self._row_has_cell:
                self._text_append(" | ")
            self._row_has_cell = True
        elif tag in _HTML_PARAGRAPH_TAGS:
            self._newlines_request(2)
        elif tag in _HTML_LINE_TAGS:
            self._newlines_request(1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._title_finish()
            return
        if tag in self._skipped:
            # Close up to the matching open tag, tolerating unclosed children.
            del self._skipped[len(self._skipped) - 1 - self._skipped[::-1].index(tag) :]
            return
        if self._skipped:
            return
        if self._heading is not None and _HTML_HEADING_LEVELS.get(tag) == self._heading[0]:
            self._heading_finish()
        elif tag == "pre" and self._pre_parts is not None:
            self._pre_finish()
        elif tag in ("ul", "ol"):
            if self._lists:
                self._lists.pop()
            self._newlines_request(2)
        elif tag in _HTML_PARAGRAPH_TAGS:
            self._newlines_request(2)
        elif tag in _HTML_LINE_TAGS:
            self._newlines_request(1)

    def handle_data(self, data: str) -> None:
        if self._title_parts is not None:
            self._title_parts.append(data)
        elif self._skipped:
            return
        elif self._heading is not None:
            self._heading[1].append(data)
        elif self._pre_parts is not None:
            self._pre_parts.append(data)
        else:
            self._text_append(re.sub(r"\s+", " ", data))

    def close(self) -> None:
        super().close()
        self._title_finish()
        if self._heading is not None:
            self._heading_finish()
        if self._pre_parts is not None:
            self._pre_finish()
        self._section_finish()

    # Building the text

    @property
    def _title_tag_seen(self) -> bool:
        return bool(self.title_tag_text)

    def _newlines_request(self, count: int) -> None:
        """Ask for a line break (1) or a blank line (2) before the next text; breaks do not
        add up, so nested blocks do not pile up blank lines."""
        self._pending_newlines = max(self._pending_newlines, count)

    def _text_append(self, text: str) -> None:
        if not text.strip():
            # Whitespace between inline elements still separates words.
            if self._parts and not self._pending_newlines and not self._ends_with_space():
                self._parts.append(" ")
            return
        if self._pending_newlines:
            if self._parts:
                self._parts.append("\n" * self._pending_newlines)
            self._pending_newlines = 0
        if not self._parts or self._ends_with_space():
            text = text.lstrip()
        self._parts.append(text)

    def _ends_with_space(self) -> bool:
        return bool(self._parts) and self._parts[-1][-1:].isspace()

    def _list_item_start(self) -> None:
        self._newlines_request(1)
        if self._lists and self._lists[-1][0] == "ol":
            self._lists[-1][1] += 1
            self._text_append(f"{self._lists[-1][1]}. ")
        else:
            self._text_append("- ")

    def _title_finish(self) -> None:
        if self._title_parts is not None:
            self.title_tag_text = " ".join("".join(self._title_parts).split())
            self._title_parts = None

    def _heading_finish(self) -> None:
        assert self._heading is not None
        level, parts = self._heading
        self._heading = None
        heading = " ".join("".join(parts).split())
        self._newlines_request(2)
        if not heading:
            return
        self._section_finish()
        self._trail.enter(level, heading)
        if level == 1 and not self.first_h1:
            self.first_h1 = heading

    def _pre_finish(self) -> None:
        assert self._pre_parts is not None
        code = "".join(self._pre_parts)
        self._pre_parts = None
        # HTML drops a newline right after <pre>; the fence must outlast any ``` inside.
        code = code.removeprefix("\n").rstrip()
        if not code.strip():
            return
        longest = max((len(m) for m in _LINE_START_BACKTICKS_RE.findall(code)), default=2)
        fence = "`" * max(3, longest + 1)
        self._newlines_request(2)
        self._text_append(f"{fence}\n{code}\n{fence}")
        self._newlines_request(2)

    def _section_finish(self) -> None:
        self.raw_sections.append(
            _RawSection(headings=self._trail.current(), text="".join(self._parts))
        )
        self._parts = []
        self._pending_newlines = 0


def _html_parse(text: str) -> tuple[str, list[_RawSection]]:
    parser = _HtmlSectionParser()
    try:
        parser.feed(text)
        parser.close()
    except Exception as exc:  # html.parser is lenient; anything left is a broken file
        raise DocumentError(_("not readable HTML: %(error)s") % {"error": _one_line(exc)}) from None
    return parser.first_h1 or parser.title_tag_text, parser.raw_sections


# PDF ----------------------------------------------------------------------------------------


def _pdf_parse(data: bytes, *, fallback_title: str) -> ParsedDocument:
    """One section per page with text: PDF headings are only font sizes, not structure."""
    try:
        page_texts, metadata_title = _pdf_read(data)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files, not only PdfReadError
        raise DocumentError(
            _("not a readable PDF: %(error)s") % {"error": _one_line(exc)}
        ) from None
    title = metadata_title or fallback_title
    sections = [
        Section(heading_path=(title, f"page {number}"), text=text)
        for number, text in enumerate(page_texts, start=1)
        if text
    ]
    if not sections:
        raise DocumentError(_("PDF has no extractable text (scanned?)"))
    return ParsedDocument(title=title, kind="pdf", sections=sections)


def _pdf_read(data: bytes) -> tuple[list[str], str]:
    from pypdf import PdfReader  # imported here: only PDF uploads pay for it

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentError(_("not a readable PDF: it is encrypted with a password"))
    page_texts = [
        _whitespace_tidy(_newlines_normalise(page.extract_text() or "")) for page in reader.pages
    ]
    metadata = reader.metadata
    title = " ".join(str(metadata.title or "").split()) if metadata else ""
    return page_texts, title
