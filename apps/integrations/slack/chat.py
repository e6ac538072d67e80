"""Slack behind the chat contract (``apps.integrations.bases.chat.Chat``).

Answers stream with Slack's own streaming methods (chat.startStream / appendStream /
stopStream) where the workspace takes them; elsewhere (a workspace without Slack's AI
features, the top level of a DM, a message an earlier attempt already posted) the answer
is a placeholder edited with chat.update as text arrives. Either way the person sees
progress at most once per ``SLACK_UPDATE_INTERVAL_S``: Slack rate-limits edits per channel.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection

from apps.integrations.bases.chat import (
    AnswerStream,
    Chat,
    ChatPostError,
    ChatThread,
    ChatUnavailable,
    ChatUserProfile,
    OutgoingMessage,
)
from apps.integrations.slack import message_builder
from apps.integrations.slack.client import slack_call, slack_web_client
from apps.integrations.slack.markup import slack_text_searchable
from apps.integrations.slack.selectors import slack_workspace_get_by_team

logger = logging.getLogger(__name__)

# A workspace that refused chat.startStream is not asked again for this long (per process).
STREAMING_REFUSAL_MEMORY_S = 3600
_streaming_refused_until: dict[str, float] = {}


def slack_chat_for_team(team_id: str) -> SlackChat:
    """``settings.CHAT_BACKEND``: the Slack workspace of ``team_id`` in the current tenant."""
    workspace = slack_workspace_get_by_team(team_id=team_id)
    # The workspace table is shared by all tenants: the team must belong to this schema.
    if workspace is None or workspace.tenant.schema_name != connection.schema_name:
        raise ChatUnavailable(f"no active Slack workspace {team_id} for this tenant")
    return SlackChat(team_id=team_id, token=workspace.bot_token)


class SlackChat(Chat):
    def __init__(self, *, team_id: str, token: str):
        self.team_id = team_id
        self.client = slack_web_client(token)

    def post(self, thread: ChatThread, message: OutgoingMessage) -> str:
        rendered = message_builder.message_blocks(message)
        response = slack_call(
            self.client.chat_postMessage,
            channel=thread.channel,
            thread_ts=thread.thread_ts or None,
            text=rendered.text,
            blocks=rendered.blocks,
            unfurl_links=False,
        )
        return response["ts"]

    def update(self, *, channel: str, ts: str, message: OutgoingMessage) -> None:
        rendered = message_builder.message_blocks(message)
        self._update_rendered(channel=channel, ts=ts, rendered=rendered)

    def _update_rendered(self, *, channel: str, ts: str, rendered) -> None:
        slack_call(
            self.client.chat_update,
            channel=channel,
            ts=ts,
            text=rendered.text,
            blocks=rendered.blocks,
        )

    def post_ephemeral(self, thread: ChatThread, message: OutgoingMessage) -> None:
        rendered = message_builder.message_blocks(message)
        slack_call(
            self.client.chat_postEphemeral,
            channel=thread.channel,
            user=thread.user_id,
            thread_ts=thread.thread_ts or None,
            text=rendered.text,
            blocks=rendered.blocks,
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
        response = slack_call(
            self.client.files_upload_v2,
            channel=thread.channel,
            thread_ts=thread.thread_ts or None,
            filename=filename,
            content=content,
            title=title or filename,
            initial_comment=comment or None,
        )
        uploaded = response.get("files") or [response.get("file") or {}]
        return str(uploaded[0].get("id", ""))

    def searchable_text(self, text: str) -> str:
        return slack_text_searchable(text)

    def channel_reference(self, channel_id: str) -> str:
        return f"<#{channel_id}>"  # Slack shows it as #name, a link, to those who may see it

    def user_reference(self, user_id: str) -> str:
        return f"<@{user_id}>"  # Slack shows it as @name

    def user_group_members(self, group_id: str) -> tuple[str, ...]:
        response = slack_call(self.client.usergroups_users_list, usergroup=group_id)
        return tuple(str(user) for user in response.get("users") or [])

    def permalink(self, *, channel: str, ts: str) -> str:
        response = slack_call(self.client.chat_getPermalink, channel=channel, message_ts=ts)
        return str(response.get("permalink") or "")

    def user_profile(self, user_id: str) -> ChatUserProfile:
        user = slack_call(self.client.users_info, user=user_id).get("user") or {}
        profile = user.get("profile") or {}
        return ChatUserProfile(
            user_id=user_id,
            email=str(profile.get("email") or ""),
            time_zone=str(user.get("tz") or ""),
            real_name=str(profile.get("real_name") or user.get("real_name") or ""),
        )

    def status_set(self, thread: ChatThread, text: str) -> bool:
        # assistant.threads.setStatus exists in the app's assistant (DM) threads only.
        if not (thread.is_direct and thread.thread_ts):
            return False
        try:
            slack_call(
                self.client.assistant_threads_setStatus,
                channel_id=thread.channel,
                thread_ts=thread.thread_ts,
                status=text,
            )
        except ChatPostError as exc:
            logger.info("Slack refused the thread status (%s); a placeholder is used", exc.code)
            return False
        return True

    def answer_stream(
        self,
        thread: ChatThread,
        *,
        placeholder: OutgoingMessage,
        progress_note: str = "",
        resume_ts: str | None = None,
    ) -> AnswerStream:
        if resume_ts is None and self._may_stream(thread):
            try:
                return NativeAnswerStream.start(self, thread)
            except ChatPostError as exc:
                if not exc.retryable:
                    _streaming_refused_until[self.team_id] = (
                        time.monotonic() + STREAMING_REFUSAL_MEMORY_S
                    )
                logger.info("chat.startStream refused (%s); answering with chat.update", exc.code)
        return UpdatingAnswerStream.start(
            self, thread, placeholder=placeholder, progress_note=progress_note, resume_ts=resume_ts
        )

    def _may_stream(self, thread: ChatThread) -> bool:
        # Slack streams replies in threads only; a DM's top level keeps the placeholder.
        if not thread.thread_ts:
            return False
        return _streaming_refused_until.get(self.team_id, 0.0) <= time.monotonic()


class _Throttle:
    def __init__(self) -> None:
        self.interval_s = settings.SLACK_UPDATE_INTERVAL_S
        self.last = time.monotonic()

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.interval_s:
            return False
        self.last = now
        return True


class NativeAnswerStream(AnswerStream):
    """chat.startStream, then chat.appendStream with what arrived since the last call, then
    chat.stopStream with the notes and Slack's own 👍/👎.

    A final message whose text is not what was streamed (a failure notice), or a stream
    Slack ended early (it expires server-side), is finished with chat.update of the same
    message: the person always ends up with the whole final message.
    """

    def __init__(self, chat: SlackChat, thread: ChatThread, ts: str):
        self.chat, self.thread, self.ts = chat, thread, ts
        self.streamed = ""  # every piece appended, sent or not
        self.pending = ""  # appended, not yet sent
        self.broken = False
        self.throttle = _Throttle()

    @classmethod
    def start(cls, chat: SlackChat, thread: ChatThread) -> NativeAnswerStream:
        response = slack_call(
            chat.client.chat_startStream,
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            recipient_team_id=thread.team_id or None,
            recipient_user_id=thread.user_id or None,
        )
        return cls(chat, thread, str(response["ts"]))

    def append(self, text: str) -> None:
        self.streamed += text
        self.pending += text
        if self.broken or not self.pending.strip() or not self.throttle.due():
            return
        try:
            slack_call(
                self.chat.client.chat_appendStream,
                channel=self.thread.channel,
                ts=self.ts,
                markdown_text=self.pending,
            )
        except ChatPostError as exc:
            # Rate limited: the text waits for the next call. Anything else: the final
            # edit carries the whole answer.
            logger.info("chat.appendStream failed (%s)", exc.code)
            self.broken = exc.code != "ratelimited"
            return
        self.pending = ""

    def finish(self, message: OutgoingMessage) -> None:
        as_streamed = message.text.strip() == self.streamed.strip()
        if not self.broken:
            try:
                self._stop(message if as_streamed else None)
                if as_streamed:
                    return
            except ChatPostError as exc:
                logger.info("chat.stopStream failed (%s); finishing with chat.update", exc.code)
        self.chat.update(channel=self.thread.channel, ts=self.ts, message=message)

    def _stop(self, message: OutgoingMessage | None) -> None:
        footer = message_builder.footer_blocks(message, native_feedback=True) if message else []
        slack_call(
            self.chat.client.chat_stopStream,
            channel=self.thread.channel,
            ts=self.ts,
            markdown_text=(self.pending or None) if message else None,
            blocks=footer or None,
        )


class UpdatingAnswerStream(AnswerStream):
    """A placeholder ("NOX is thinking…"), edited with chat.update as text arrives."""

    def __init__(self, chat: SlackChat, thread: ChatThread, ts: str, progress_note: str):
        self.chat, self.thread, self.ts = chat, thread, ts
        self.progress_note = progress_note
        self.text = ""
        self.throttle = _Throttle()

    @classmethod
    def start(
        cls,
        chat: SlackChat,
        thread: ChatThread,
        *,
        placeholder: OutgoingMessage,
        progress_note: str,
        resume_ts: str | None,
    ) -> UpdatingAnswerStream:
        if resume_ts:
            chat.update(channel=thread.channel, ts=resume_ts, message=placeholder)
            ts = resume_ts
        else:
            ts = chat.post(thread, placeholder)
        return cls(chat, thread, ts, progress_note)

    def append(self, text: str) -> None:
        self.text += text
        if not self.text.strip() or not self.throttle.due():
            return
        rendered = message_builder.streaming_blocks(self.text, self.progress_note)
        try:
            self.chat._update_rendered(channel=self.thread.channel, ts=self.ts, rendered=rendered)
        except ChatPostError as exc:
            # A missed intermediate edit is harmless; the final edit carries the whole answer.
            logger.info("Intermediate Slack update skipped: %s", exc.code)

    def finish(self, message: OutgoingMessage) -> None:
        self.chat.update(channel=self.thread.channel, ts=self.ts, message=message)


def streaming_refusals_clear() -> None:
    """Forget which workspaces refused streaming (they may have gained the feature)."""
    _streaming_refused_until.clear()
