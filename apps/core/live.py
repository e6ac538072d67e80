"""Live events of a company (its dashboard's activity feed, a browser chat), sent through the
Channels layer to groups named after the company's schema: a group never holds another
company's sockets, because a socket joins groups of the schema its host resolved to
(``apps.core.sockets``)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


# How much of a message a feed line shows.
ACTIVITY_PREVIEW_CHARS = 140


def activity_preview(text: str, *, direct: bool) -> str:
    """The start of ``text`` for a feed line, on one line; empty for a direct message, whose
    text only its person may read (the feed says "direct message" instead)."""
    if direct:
        return ""
    flat = " ".join(text.split())
    if len(flat) <= ACTIVITY_PREVIEW_CHARS:
        return flat
    return flat[: ACTIVITY_PREVIEW_CHARS - 1].rstrip() + "…"


def activity_group(schema_name: str) -> str:
    """The group of ``schema_name``'s activity feed."""
    return f"activity.{schema_name}"


def group_send_now(group: str, event: dict) -> None:
    """Send ``event`` to ``group`` at once; a live feed is best effort, so a layer that
    cannot be reached is logged and never fails the work that produced the event."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # see the docstring
        logger.warning("Live event for %s not sent", group, exc_info=True)


def activity_publish(kind: str, **fields) -> None:
    """Tell the current company's activity feed that ``kind`` happened (``question``,
    ``thinking``, ``answer``, ``tool_call``, ``vote``…), once the current transaction commits
    (so a feed never shows what was rolled back). ``fields`` must be JSON-serialisable and
    must not carry what only one person may read (a DM's text)."""
    schema_name = connection.schema_name
    event = {
        "type": "activity.event",
        "kind": kind,
        "at": timezone.now().isoformat(),
        **fields,
    }
    transaction.on_commit(lambda: group_send_now(activity_group(schema_name), event))
