"""Turning an uploaded file (Markdown, text, HTML, PDF) into titled, heading-aware sections.

Pure functions, no database: the ingest service calls ``document_parse`` and chunks the result.
Every problem with the file itself comes out as ``DocumentError`` with a one-line reason that
can be shown to the person who uploaded it; no library exception escapes.

The input is untrusted, so the work is linear in its size: headings, links and front matter
are taken apart with string methods (the regexes they replace backtracked quadratically on a
line of spaces or of brackets), HTML is tokenised by a scanner whose searches never go over the
same text twice (the standard library's ``html.parser`` re-reads an unclosed tag from each
"<", before Python 3.13), and the regexes left are anchored at a line's start. A PDF's work is
its decompressed content, not its size: that is capped relative to the file's size.
tests/apps/knowledge/test_parsing.py times the inputs that used to take seconds.
"""

from __future__ import annotations

import codecs
import html
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings
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
    kind = file_kind(name)
    fallback_title = file_title(name)
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


def file_kind(name: str) -> str:
    """What the extension of ``name`` says the file is ("markdown", "html", …); raises
    DocumentError for an unsupported one. Cheap: the upload checks it before storing a file."""
    extension = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    kind = SUPPORTED_EXTENSIONS.get(extension)
    if kind is None:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        described = extension or _("(no extension)")
        raise DocumentError(
            _("unsupported file type %(type)s (supported: %(supported)s)")
            % {"type": described, "supported": supported}
        )
    return kind


def file_title(name: str) -> str:
    """The title a file has until its own (a heading, a title tag, PDF metadata) is read."""
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
_SETEXT_UNDERLINE_RE = re.compile(r"^ {0,3}(=+|-{2,})[ \t]*$")
# Lines that cannot be the text of a setext heading: lists, quotes, tables, indented code,
# thematic breaks; their following "---" is a rule, not an underline.
_NOT_SETEXT_TEXT_RE = re.compile(
    r"^(?: {4}|\t| {0,3}(?:[-*+][ \t]|\d{1,9}[.)][ \t]|>|\|)|[-*_=\s]+$)"
)
_YAML_KEY_LINE_RE = re.compile(r"^[A-Za-z_][\w.-]*[ \t]*:(?:[ \t]|$)")


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
        atx = _atx_heading(line)
        if atx is not None:
            level, heading = atx
            heading = _heading_clean(heading)
            if heading:
                heading_enter(level, heading)
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
            return "\n".join(lines[index + 1 :]), _front_matter_title(lines[1:index])
    return text, ""  # never closed: a thematic break, not front matter


def _front_matter_title(lines: list[str]) -> str:
    """The value of the first ``title:`` line, without the quotes around it."""
    for line in lines:
        if line.startswith("title:"):
            value = line.removeprefix("title:").strip(" \t")
            if value.startswith(('"', "'")):
                value = value[1:]
            if value.endswith(('"', "'")):
                value = value[:-1]
            return value.strip()
    return ""


def _atx_heading(line: str) -> tuple[int, str] | None:
    """(level, text) when ``line`` is an ATX heading (``## Text ##``), else None.

    String methods rather than a regex: an optional text followed by optional spaces makes a
    backtracking regex quadratic on a heading full of spaces.
    """
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return None  # indented code
    level = len(stripped) - len(stripped.lstrip("#"))
    rest = stripped[level:]
    if not 1 <= level <= 6 or rest[:1] not in ("", " ", "\t"):
        return None  # "#hashtag", "#######"
    text = rest.strip(" \t")
    # A closing sequence of #s goes when a space precedes it, or when it is the whole text.
    without_closing = text.rstrip("#")
    if not without_closing:
        return level, ""
    if without_closing[-1] in " \t":
        text = without_closing.rstrip(" \t")
    return level, text


def _is_setext_text(body: list[str]) -> bool:
    """Only the simple case: a single-line paragraph directly above the underline."""
    if not body or not body[-1].strip() or _NOT_SETEXT_TEXT_RE.match(body[-1]):
        return False
    if _atx_heading(body[-1]) is not None or fence_open_marker(body[-1]) is not None:
        return False
    return len(body) == 1 or not body[-2].strip()


def _heading_clean(heading: str) -> str:
    """Heading text without Markdown decoration: links keep their text, code ticks and bold
    markers go, so paths read as plain words."""
    heading = _markdown_links_unwrap(heading)
    heading = heading.replace("`", "").replace("**", "").replace("__", "")
    return " ".join(heading.split())


def _markdown_links_unwrap(text: str) -> str:
    """``[text](url)`` and ``![alt](url)`` replaced by their text.

    A scan from one ``](`` to the next, each stretch of the text looked at once: the regex
    ``!?\\[([^\\]]*)\\]\\([^)]*\\)`` it replaces is quadratic on ``[[[[…``.
    """
    pieces: list[str] = []
    position = 0
    while (middle := text.find("](", position)) != -1:
        # The link text is what follows the last "]" before the middle: it holds no "]".
        last_bracket = text.rfind("]", position, middle)
        opening = text.find("[", position if last_bracket == -1 else last_bracket + 1, middle)
        if opening == -1:
            pieces.append(text[position : middle + 1])
            position = middle + 1
            continue
        # Searched only for a link that will be replaced: the scan then moves past it.
        closing = text.find(")", middle + 2)
        if closing == -1:
            break  # no link can end after this point
        start = opening - 1 if opening > position and text[opening - 1] == "!" else opening
        pieces.append(text[position:start])
        pieces.append(text[opening + 1 : middle])
        position = closing + 1
    pieces.append(text[position:])
    return "".join(pieces)


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
# Tag names as html.parser reads them; attributes are skipped, only their quotes matter.
_TAG_NAME_RE = re.compile(r"[a-zA-Z][^\t\n\r\f />\x00]*")
_TAG_UNTIL_GT_OR_EQUALS_RE = re.compile(r"[^>=]*")
_HTML_SPACES_RE = re.compile(r"[ \t\n\r\f]*")
# Elements whose content is raw text, never markup (both are dropped from the text anyway).
_RAW_TEXT_END_RES = {tag: re.compile(f"</{tag}", re.IGNORECASE) for tag in ("script", "style")}

_START_TAG, _END_TAG, _TEXT = "start", "end", "text"


def _html_tokens(text: str) -> Iterator[tuple[str, str]]:
    """The start tags, end tags (lowercase names) and text (entities decoded) of ``text``.

    Linear: every search starts where the previous one ended, and a construct the file never
    closes (a tag, a comment) ends the document there, as in a browser, instead of being
    re-read as text from its next character (which is what makes html.parser quadratic).
    Comments, doctypes and processing instructions are dropped.
    """
    text_start = search_from = 0
    while (opening := text.find("<", search_from)) != -1:
        following = text[opening + 1 : opening + 2]
        if not (following in ("/", "!", "?") or (following.isascii() and following.isalpha())):
            search_from = opening + 1  # a lone "<" is text
            continue
        if opening > text_start:
            yield _TEXT, html.unescape(text[text_start:opening])
        if following == "/":
            tokens, after = _html_end_tag(text, opening)
        elif following in ("!", "?"):
            tokens, after = [], _html_comment_end(text, opening)
        else:
            tokens, after = _html_start_tag(text, opening)
        yield from tokens
        if after == -1:
            return
        text_start = search_from = after
    if text_start < len(text):
        yield _TEXT, html.unescape(text[text_start:])


def _html_start_tag(text: str, opening: int) -> tuple[list[tuple[str, str]], int]:
    """The tokens of the start tag at ``opening`` and where the text resumes (-1: the end)."""
    name_end = _TAG_NAME_RE.match(text, opening + 1).end()
    tag = text[opening + 1 : name_end].lower()
    closing = _html_tag_close(text, name_end)
    if closing == -1:
        return [], -1
    tokens = [(_START_TAG, tag)]
    if text[closing - 1] == "/":
        tokens.append((_END_TAG, tag))  # <br/>
    if tag not in _RAW_TEXT_END_RES:
        return tokens, closing + 1
    raw_text_end = _RAW_TEXT_END_RES[tag].search(text, closing + 1)
    return tokens, -1 if raw_text_end is None else raw_text_end.start()


def _html_end_tag(text: str, opening: int) -> tuple[list[tuple[str, str]], int]:
    closing = text.find(">", opening + 2)
    if closing == -1:
        return [], -1
    name = _TAG_NAME_RE.match(text, opening + 2)
    return ([(_END_TAG, name.group().lower())] if name else []), closing + 1  # "</ x>": junk


def _html_comment_end(text: str, opening: int) -> int:
    if text.startswith("<!--", opening):
        closing = text.find("-->", opening + 4)
        return -1 if closing == -1 else closing + 3
    closing = text.find(">", opening + 2)  # <!DOCTYPE …>, <![CDATA[…]]>, <?xml …?>
    return -1 if closing == -1 else closing + 1


def _html_tag_close(text: str, position: int) -> int:
    """The ">" ending a tag whose attributes start at ``position`` (-1: the text ends first);
    one inside a quoted attribute value does not count."""
    while True:
        position = _TAG_UNTIL_GT_OR_EQUALS_RE.match(text, position).end()
        if position == len(text) or text[position] == ">":
            return -1 if position == len(text) else position
        position = _HTML_SPACES_RE.match(text, position + 1).end()  # after "="
        quote = text[position : position + 1]
        if quote in ('"', "'"):
            closing_quote = text.find(quote, position + 1)
            if closing_quote == -1:
                return -1
            position = closing_quote + 1


class _HtmlSectionParser:
    """Collects text per heading; block elements become line breaks, ``<pre>`` a code fence."""

    def __init__(self) -> None:
        self.raw_sections: list[_RawSection] = []
        self.first_h1 = ""
        self.title_tag_text = ""
        self._trail = _HeadingTrail()
        self._parts: list[str] = []
        self._pending_newlines = 0
        # Open elements whose content is dropped, innermost last; counted too, so that a file
        # of thousands of unclosed <nav>s costs no scan of the stack per tag.
        self._skipped: list[str] = []
        self._skipped_open: Counter[str] = Counter()
        self._title_parts: list[str] | None = None
        self._heading: tuple[int, list[str]] | None = None
        self._pre_parts: list[str] | None = None
        self._lists: list[list] = []  # [tag, items so far] per open <ul>/<ol>
        self._row_has_cell = False

    def parse(self, text: str) -> None:
        for kind, value in _html_tokens(text):
            if kind == _START_TAG:
                self.handle_starttag(value)
            elif kind == _END_TAG:
                self.handle_endtag(value)
            else:
                self.handle_data(value)
        self.close()

    # Token handlers

    def handle_starttag(self, tag: str) -> None:
        if self._title_parts is not None:
            self._title_finish()  # an unclosed <title> must not swallow the page
        if self._skipped == ["head"] and tag not in _HTML_HEAD_CONTENT_TAGS:
            self._skipped.clear()
            self._skipped_open.clear()
        if tag == "title":
            only_head_open = self._skipped_open["head"] == len(self._skipped)
            if not self._title_tag_seen and only_head_open:
                self._title_parts = []
            return
        if tag in _HTML_SKIPPED_TAGS:
            if not self._skipped and tag in ("nav", "footer"):
                self._newlines_request(2)  # text on either side belongs to different blocks
            self._skipped.append(tag)
            self._skipped_open[tag] += 1
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
        if self._skipped_open[tag]:
            # Close up to the matching open tag, tolerating unclosed children.
            while (closed := self._skipped.pop()) != tag:
                self._skipped_open[closed] -= 1
            self._skipped_open[tag] -= 1
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
    parser.parse(text)
    return parser.first_h1 or parser.title_tag_text, parser.raw_sections


# PDF ----------------------------------------------------------------------------------------


# Small files may inflate to this much page content whatever their size.
PDF_CONTENT_FLOOR_BYTES = 1024 * 1024
# pypdf's own caps on one decompressed stream (its Configuration, pypdf >= 6.18): the same
# allowance as all page contents together, so no single stream can go past it either.
_PYPDF_OUTPUT_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "array_based_stream_maximum_output_length",
    "maximum_declared_stream_length",
)


def _pdf_content_limit(file_size: int) -> int:
    """Bytes of decompressed page content a PDF of ``file_size`` bytes may hold.

    Text extraction costs time per content byte, and a FlateDecode stream of a few KB can
    inflate a thousandfold: capping content relative to the file's size keeps the work linear
    in what was uploaded (``KNOWLEDGE_PDF_MAX_INFLATION``).
    """
    return PDF_CONTENT_FLOOR_BYTES + settings.KNOWLEDGE_PDF_MAX_INFLATION * file_size


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
    # Imported here: only PDF uploads pay for it.
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    content_limit = _pdf_content_limit(len(data))
    try:
        with apply_configuration(**dict.fromkeys(_PYPDF_OUTPUT_LIMITS, content_limit)):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise DocumentError(_("not a readable PDF: it is encrypted with a password"))
            _pdf_pages_check(len(reader.pages))
            page_texts = _pdf_page_texts(reader.pages, content_limit=content_limit)
            metadata = reader.metadata
    except LimitReachedError:
        raise _pdf_too_much_content(content_limit) from None
    title = " ".join(str(metadata.title or "").split()) if metadata else ""
    return page_texts, title


def _pdf_pages_check(page_count: int) -> None:
    limit = settings.KNOWLEDGE_PDF_MAX_PAGES
    if page_count > limit:
        raise DocumentError(
            _("PDF has %(pages)s pages, over the %(limit)s-page limit")
            % {"pages": f"{page_count:,}", "limit": f"{limit:,}"}
        )


def _pdf_page_texts(pages, *, content_limit: int) -> list[str]:
    """Each page's text; the pages' decompressed content is counted before it is read."""
    texts = []
    content_bytes = 0
    for page in pages:
        contents = page.get_contents()
        content_bytes += len(contents.get_data()) if contents is not None else 0
        if content_bytes > content_limit:
            raise _pdf_too_much_content(content_limit)
        texts.append(_whitespace_tidy(_newlines_normalise(page.extract_text() or "")))
    return texts


def _pdf_too_much_content(content_limit: int) -> DocumentError:
    return DocumentError(
        _(
            "PDF content decompresses to more than %(limit)s bytes, too much for a file of "
            "this size (a decompression bomb?)"
        )
        % {"limit": f"{content_limit:,}"}
    )
