"""The browser chat behind the chat contract (``apps.integrations.bases.chat.Chat``).

Every message goes to the person's open pages as an event on their channel-layer group
(``events``); nothing is kept by the platform itself: the conversation and its messages are
the rows the pipeline stores, shown on ``/conversations/<id>/``. Each piece of an answer is
sent as it arrives (no rate limit to respect, unlike Slack's edits).
"""

from __future__ import annotations

import base64
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from apps.conversations.answering import tenant_site_url
from apps.conversations.models import Message
from apps.conversations.services import WEB_PERSON_PREFIX, web_message_ts
from apps.integrations.bases.chat import (
    AnswerStream,
    Chat,
    ChatPostError,
    ChatThread,
    ChatUserProfile,
    OutgoingMessage,
    Tone,
)
from apps.integrations.web.events import message_fields, web_user_pk, webchat_send

# A file shared in a browser chat travels inside its event (an invite is a few KiB).
WEB_FILE_MAX_BYTES = 512 * 1024
FILE_TYPES = {".ics": "text/calendar", ".txt": "text/plain", ".md": "text/markdown"}


def web_chat_for_team(team_id: str) -> WebChat:
    """``settings.WEB_CHAT_BACKEND``: the browser chat of the current company (always there)."""
    return WebChat()


def llm_base_url() -> str:
    """Where the configured language model is reached (what a person is told was tried)."""
    if settings.LLM_PROVIDER == "openai":
        return settings.OPENAI_BASE_URL
    return settings.OLLAMA_HOST


class WebChat(Chat):
    def post(self, thread: ChatThread, message: OutgoingMessage) -> str:
        ts = web_message_ts()
        webchat_send(
            thread.channel,
            "message",
            thread=thread.thread_ts,
            message=ts,
            **message_fields(message),
        )
        return ts

    def update(self, *, channel: str, ts: str, message: OutgoingMessage) -> None:
        webchat_send(channel, "message", message=ts, **message_fields(message))

    def post_ephemeral(self, thread: ChatThread, message: OutgoingMessage) -> None:
        # A browser chat has one reader: what only they may see is a message like any other.
        webchat_send(
            thread.user_id or thread.channel,
            "message",
            thread=thread.thread_ts,
            message=web_message_ts(),
            **message_fields(message),
        )

    def upload_file(
        self,
        thread: ChatThread,
        *,
        filename: str,
        content: bytes,
        title: str = "",
        comment: str = "",
    ) -> str:
        """The file travels in the event, and the page offers it for download (the page keeps
        it while open; the invite's details are in the thread's messages too)."""
        if len(content) > WEB_FILE_MAX_BYTES:
            raise ChatPostError("file_too_large")
        file_id = uuid.uuid4().hex
        suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
        webchat_send(
            thread.channel,
            "file",
            thread=thread.thread_ts,
            file=file_id,
            name=filename,
            title=title or filename,
            comment=comment,
            content_type=FILE_TYPES.get(suffix, "application/octet-stream"),
            content_base64=base64.b64encode(content).decode("ascii"),
        )
        return file_id

    def channel_reference(self, channel_id: str) -> str:
        if channel_id.startswith(WEB_PERSON_PREFIX):
            return _("your browser chat")  # memory of a browser chat serves only its person
        return super().channel_reference(channel_id)

    def permalink(self, *, channel: str, ts: str) -> str:
        """The conversation's page on the company's site."""
        conversation_id = (
            Message.objects.filter(channel_id=channel, slack_ts=ts)
            .values_list("conversation_id", flat=True)
            .first()
        )
        if conversation_id is None:
            raise ChatPostError("message_not_found")
        return f"{tenant_site_url()}/conversations/{conversation_id}/"

    def user_profile(self, user_id: str) -> ChatUserProfile:
        user_pk = web_user_pk(user_id)
        user = get_user_model().objects.filter(pk=user_pk).first() if user_pk else None
        if user is None:
            raise ChatPostError("user_not_found")
        return ChatUserProfile(
            user_id=user_id,
            email=user.email or "",
            time_zone=settings.TIME_ZONE,
            real_name=user.get_full_name() or user.get_username(),
        )

    def status_set(self, thread: ChatThread, text: str) -> bool:
        webchat_send(thread.channel, "status", thread=thread.thread_ts, text=text)
        return True

    def answer_stream(
        self,
        thread: ChatThread,
        *,
        placeholder: OutgoingMessage,
        progress_note: str = "",
        resume_ts: str | None = None,
    ) -> AnswerStream:
        return WebAnswerStream.start(
            thread, placeholder=placeholder, progress_note=progress_note, resume_ts=resume_ts
        )


class WebAnswerStream(AnswerStream):
    """``start``, a ``delta`` per piece of text, then ``final`` (a retry reuses the message id
    of the earlier attempt, so the page replaces its notice)."""

    def __init__(self, thread: ChatThread, ts: str):
        self.thread, self.ts = thread, ts

    @classmethod
    def start(
        cls,
        thread: ChatThread,
        *,
        placeholder: OutgoingMessage,
        progress_note: str,
        resume_ts: str | None,
    ) -> WebAnswerStream:
        stream = cls(thread, resume_ts or web_message_ts())
        stream._send("start", text=placeholder.text, progress=progress_note)
        return stream

    def append(self, text: str) -> None:
        if text:
            self._send("delta", text=text)

    def finish(self, message: OutgoingMessage) -> None:
        fields = message_fields(message)
        if message.tone in (Tone.WARNING, Tone.ERROR):
            # A failure notice of the pipeline (the model unreachable, or failing): the person
            # is told which server was tried, so they (or an administrator) can check it.
            url = llm_base_url()
            tried = _("Language model tried at %(url)s") % {"url": url}
            fields["notes"] = [*fields["notes"], [{"text": tried}]]
            fields["model_url"] = url
        self._send("final", **fields)

    def _send(self, kind: str, **fields) -> None:
        webchat_send(
            self.thread.channel, kind, thread=self.thread.thread_ts, message=self.ts, **fields
        )
