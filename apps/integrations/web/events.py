"""What the browser chat sends to a person's page: events on the channel-layer group of that
person in that company (``webchat.<schema>.<user pk>``), one JSON object each on the socket.

Kinds: ``accepted`` (the question is stored), ``status`` ("NOX is thinking…"), ``start`` (an
answer begins, its placeholder), ``delta`` (the next piece of its text), ``final`` (the whole
answer with its notes and sources, or a failure notice), ``message`` (anything else an agent
posts), ``file`` (a file shared in the thread), ``error`` (the question was refused).
"""

from __future__ import annotations

import re

from django.db import connection

from apps.conversations.services import WEB_PERSON_PREFIX
from apps.core.live import group_send_now
from apps.integrations.bases.chat import OutgoingMessage

# The consumer's handler for these events (Channels maps "webchat.event" to webchat_event).
EVENT_TYPE = "webchat.event"
MARKDOWN_LINK_RE = re.compile(r"\[([^\]\n]{1,300})\]\((https?://[^\s)]{1,2000}|/[^\s)]{0,2000})\)")
KNOWLEDGE_PATH_RE = re.compile(r"/knowledge/(\d+)/")
# The Slack emoji codes the agents' notes use, as the characters a browser shows.
EMOJI = {
    ":books:": "📚",
    ":white_check_mark:": "✅",
    ":hourglass_flowing_sand:": "⏳",
    ":no_entry:": "⛔",
    ":warning:": "⚠️",
    ":x:": "❌",
    ":gear:": "⚙️",
}


def webchat_group(schema_name: str, user_pk: int | str) -> str:
    """The group of one person's chat pages in one company: a socket joins only its own."""
    return f"webchat.{schema_name}.{user_pk}"


def web_user_pk(person_id: str) -> int | None:
    """The Django user behind a web person id (``web-<pk>``); None for anyone else."""
    digits = person_id.removeprefix(WEB_PERSON_PREFIX)
    if digits == person_id or not digits.isdigit():
        return None
    return int(digits)


def webchat_send(person_id: str, kind: str, **fields) -> None:
    """Send one event to the pages of ``person_id`` in the current company, at once (an
    answer streams while its transaction, if any, is still open)."""
    user_pk = web_user_pk(person_id)
    if user_pk is None:
        return
    event = {"type": EVENT_TYPE, "kind": kind, **fields}
    group_send_now(webchat_group(connection.schema_name, user_pk), event)


def note_parts(note: str) -> list[dict]:
    """A note ("📚 Sources: [1] [Runbook › Fix](http://…/knowledge/7/)") as parts the page
    shows with ``textContent``: plain text, and links (http(s) or a path of the site only)."""
    for code, character in EMOJI.items():
        note = note.replace(code, character)
    parts, position = [], 0
    for link in MARKDOWN_LINK_RE.finditer(note):
        if link.start() > position:
            parts.append({"text": note[position : link.start()]})
        parts.append({"text": link.group(1), "href": link.group(2)})
        position = link.end()
    if position < len(note):
        parts.append({"text": note[position:]})
    return parts


def message_fields(message: OutgoingMessage) -> dict:
    """An outgoing message as JSON for the page: its text (Markdown, shown as plain text),
    its notes as parts, the knowledge documents it links to, its tone."""
    notes = [note_parts(note) for note in message.notes]
    sources = [
        {"label": part["text"], "href": part["href"], "document_id": int(match.group(1))}
        for parts in notes
        for part in parts
        if "href" in part and (match := KNOWLEDGE_PATH_RE.search(part["href"]))
    ]
    return {"text": message.text, "notes": notes, "sources": sources, "tone": message.tone}
