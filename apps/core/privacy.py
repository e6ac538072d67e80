"""Whose text a conversation is. A direct message serves only its person, and so does the
browser chat (a person's own conversation with an agent): the company's site shows such a
conversation's metadata to the others, never its words, nor the words of what an agent did
in it (tool arguments, results). One rule, used by every page that shows them.

The browser chat marks its conversations ``team_id`` "web" and ``started_by``
"web-<user pk>" (``web_chat_person``).
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, Q, Value, When

WEB_CHAT_TEAM_ID = "web"
DIRECT_MESSAGE = "im"


def web_chat_person(user) -> str:
    """How the browser chat names ``user`` in ``Conversation.started_by``."""
    return f"web-{user.pk}"


def conversation_private(prefix: str = "") -> Q:
    """Conversations private to their person (``prefix``: the lookup path to a conversation,
    e.g. "conversation__")."""
    return Q(**{f"{prefix}channel_type": DIRECT_MESSAGE}) | Q(
        **{f"{prefix}team_id": WEB_CHAT_TEAM_ID}
    )


def conversation_own(*, viewer: str, prefix: str = "") -> Q:
    """The browser-chat conversations of ``viewer`` (``web_chat_person``)."""
    return Q(**{f"{prefix}team_id": WEB_CHAT_TEAM_ID, f"{prefix}started_by": viewer})


def text_visible(*, viewer: str, prefix: str = "") -> Case:
    """An annotation: True where ``viewer`` may read the text; True as well for rows with no
    conversation at all (through a nullable ``prefix``)."""
    return Case(
        When(conversation_own(viewer=viewer, prefix=prefix), then=Value(True)),
        When(conversation_private(prefix), then=Value(False)),
        default=Value(True),
        output_field=BooleanField(),
    )
