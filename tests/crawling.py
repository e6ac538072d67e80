"""Crawling a site with Django's test client, and reading the text people see on a page."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

# Links a crawl does not follow: logging out would end it early, the language switch needs a
# POST anyway, deleting is never a GET in our pages but the admin's confirmation pages
# are not worth the time.
SKIPPED_PREFIXES = ("/logout", "/admin/logout", "/i18n/", "/static/")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.links.append(href)


def crawl(
    client, start: list[str], *, max_pages: int = 400, skip: tuple[str, ...] = (), **extra
) -> dict[str, str]:
    """GET every same-site page reachable from ``start`` (breadth first, at most
    ``max_pages``); {path: body} of the HTML pages answering 200."""
    seen: set[str] = set()
    pages: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < max_pages:
        path = queue.pop(0)
        if path in seen or path.startswith(SKIPPED_PREFIXES + skip):
            continue
        seen.add(path)
        response = client.get(path, **extra)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        pages[path] = body
        parser = _Links()
        parser.feed(body)
        for href in parser.links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if "/delete/" in parts.path:
                continue
            queue.append(href)
    return pages


# Inside these, text is not prose of ours: code, the manifest, scripts.
_NOT_PROSE = {"script", "style", "pre", "code", "textarea"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
# Attributes people read (or hear, with a screen reader).
_READ_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


class _Texts(HTMLParser):
    """Text nodes and read attributes, except inside ``translate="no"`` elements (the
    company's own content: names, documents, messages; HTML's own marker for "do not
    translate this") and code."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.untranslated: list[str] = []  # inside translate="no"
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)

    def _skipping(self) -> bool:
        return any(skipped for _tag, skipped in self._stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skipped = tag in _NOT_PROSE or attributes.get("translate") == "no"
        if not self._skipping() and not skipped:
            for name in _READ_ATTRIBUTES:
                if attributes.get(name):
                    self.texts.append(attributes[name].strip())
            if tag == "input" and attributes.get("type") in {"submit", "button"}:
                self.texts.append((attributes.get("value") or "").strip())
        if tag not in _VOID:
            self._stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self._stack:
            self._stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skipping():
            self.texts.append(text)
        elif text:
            self.untranslated.append(text)


def visible_texts(body: str) -> set[str]:
    """The prose of a page as people see it (see ``_Texts``), each text node whitespace-
    collapsed."""
    head_end = body.find("</head>")
    title_start = body.find("<title>")
    parser = _Texts()
    parser.feed(body[head_end:] if head_end != -1 else body)
    texts = set(parser.texts)
    if title_start != -1:
        title = body[title_start + 7 : body.find("</title>", title_start)]
        # The title repeats the page's heading, which may be the company's own content.
        own = set(parser.untranslated)
        texts.update(part.strip() for part in title.split("·") if part.strip() not in own)
    return {text for text in texts if text}


def main_content(body: str) -> str:
    """A page's own content: what is inside ``<main>``, without the menu shared by every page
    (whose log-out and language forms post); the whole body for a page without that menu."""
    if "<main>" not in body:
        return body
    return body.split("<main>", 1)[1].split("</main>", 1)[0]
