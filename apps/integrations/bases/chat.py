"""The chat contract: everything domain code may ask of a chat platform (Slack today).

Domain apps import this module, never a vendor SDK, a vendor's message format (Block Kit) or
a vendor's install model. They describe messages in neutral terms (``OutgoingMessage``) and the
platform package renders them natively; they get a platform for a question with
``chat_for_team``, which loads the configured backend by its dotted path
(``settings.CHAT_BACKEND``; the browser chat of the company's own site:
``settings.WEB_CHAT_BACKEND``), so nothing here imports a vendor package.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class ChatPostError(Exception):
    """The platform refused or could not take the message; ``code`` is its error code."""

    def __init__(self, code: str, *, retryable: bool = False):
        super().__init__(code)
        self.code = code
        self.retryable = retryable


class ChatUnavailable(Exception):
    """No connected workspace for this team in the current tenant (never installed, or
    uninstalled since): nothing can be posted for it."""


@dataclass(frozen=True)
class IncomingMessage:
    """A person's message, already checked to be for an agent (mention, DM or a thread reply).

    ``mentions_bot``: the bot was tagged. A channel message that does not tag it is a
    question only if it replies in a thread an agent already takes part in; the domain
    decides that (``apps.conversations.services``), the platform only reports what it saw.
    """

    team_id: str
    event_id: str | None
    channel_id: str
    channel_type: str
    user_id: str
    text: str
    ts: str
    thread_ts: str | None
    mentions_bot: bool = False

    @property
    def is_direct(self) -> bool:
        return self.channel_type == "im"


@dataclass(frozen=True)
class ChatThread:
    """Where a reply goes, and to whom: some platform features (streaming an answer to one
    person in a channel) need the recipient as well as the place."""

    channel: str
    thread_ts: str | None  # None: the top level of a direct conversation
    team_id: str = ""
    user_id: str = ""  # the person being answered
    is_direct: bool = False


@dataclass(frozen=True)
class ChatButton:
    action_id: str
    label: str
    value: str
    style: str = ""  # "" | "primary" | "danger"


class Tone:
    """How a message presents itself (an icon, a colour, as the platform can)."""

    PLAIN = "plain"
    PROGRESS = "progress"  # "NOX is thinking…"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class OutgoingMessage:
    """A message in platform-neutral terms.

    ``text``: the body, in the Markdown language models write. ``notes``: small print under
    it (sources, who answered with which model). ``buttons``: actions a person can take.
    ``feedback_value``: when set, 👍/👎 go under the message and the person's choice comes
    back with this value.
    """

    text: str
    notes: tuple[str, ...] = ()
    buttons: tuple[ChatButton, ...] = ()
    feedback_value: str = ""
    tone: str = Tone.PLAIN


@dataclass(frozen=True)
class ChatUserProfile:
    user_id: str
    email: str
    time_zone: str  # IANA name, e.g. "Europe/Paris"; "" when the platform does not say
    real_name: str


class AnswerStream(abc.ABC):
    """One answer written into its thread as the model produces it.

    ``ts`` identifies the message (store it: a retry edits the same message). ``append``
    takes each new piece of text; the platform decides how often the person sees progress.
    ``finish`` leaves the message in its final state (whole answer, notes, feedback); a
    failure notice is a ``finish`` too.
    """

    ts: str

    @abc.abstractmethod
    def append(self, text: str) -> None: ...

    @abc.abstractmethod
    def finish(self, message: OutgoingMessage) -> None: ...


class Chat(abc.ABC):
    """A chat platform, as one workspace (team) sees it. Every method raises
    ``ChatPostError`` when the platform refuses or cannot be reached."""

    @abc.abstractmethod
    def post(self, thread: ChatThread, message: OutgoingMessage) -> str:
        """Post in the thread (top level when ``thread.thread_ts`` is None); the new ts."""

    @abc.abstractmethod
    def update(self, *, channel: str, ts: str, message: OutgoingMessage) -> None:
        """Replace a message this bot posted."""

    @abc.abstractmethod
    def post_ephemeral(self, thread: ChatThread, message: OutgoingMessage) -> None:
        """A message only ``thread.user_id`` sees (e.g. "you can't vote on this")."""

    @abc.abstractmethod
    def upload_file(
        self,
        thread: ChatThread,
        *,
        filename: str,
        content: bytes,
        title: str = "",
        comment: str = "",
    ) -> str:
        """Share a file in the thread (an iCalendar invite, a report); the file's id."""

    def searchable_text(self, text: str) -> str:
        """``text`` as words to search with: the platform's markup (mentions, links, code
        fences) turned into plain words. The default drops code-fence markers only."""
        return re.sub(r"```[a-zA-Z0-9_+-]*", " ", text).strip()

    def channel_reference(self, channel_id: str) -> str:
        """How a message names a channel (a link the platform shows as "#name")."""
        return f"#{channel_id}"

    def user_reference(self, user_id: str) -> str:
        """How a message names a person (a mention the platform shows as "@name")."""
        return f"@{user_id}"

    @abc.abstractmethod
    def permalink(self, *, channel: str, ts: str) -> str:
        """A link people can open to the message ``ts`` (and its thread)."""

    def user_group_members(self, group_id: str) -> tuple[str, ...]:
        """The user ids of a group of people the platform keeps (Slack: a user group, like
        @oncall). Raises ``ChatPostError`` where the platform has no such groups."""
        raise ChatPostError("user_groups_not_supported")

    @abc.abstractmethod
    def user_profile(self, user_id: str) -> ChatUserProfile:
        """A person's e-mail and time zone (invites, schedules)."""

    @abc.abstractmethod
    def status_set(self, thread: ChatThread, text: str) -> bool:
        """Show "is thinking…" (``text``; "" clears it) where the platform has such a status.
        Returns False where it has none there, so the caller can post a placeholder."""

    @abc.abstractmethod
    def answer_stream(
        self,
        thread: ChatThread,
        *,
        placeholder: OutgoingMessage,
        progress_note: str = "",
        resume_ts: str | None = None,
    ) -> AnswerStream:
        """Start an answer in the thread. Where the platform cannot stream natively, the
        person sees ``placeholder`` until text arrives, then the text with ``progress_note``
        ("NOX is writing…") under it. ``resume_ts``: the message an earlier attempt posted,
        reused rather than a second one posted."""


# The "team" of questions asked in the company's own site (the browser chat): no Slack team id
# looks like it (they start with T or E).
WEB_TEAM_ID = "web"


def chat_for_team(team_id: str) -> Chat:
    """The chat platform of ``team_id``, for the current tenant only.

    Raises ``ChatUnavailable`` when the team has no active workspace in this tenant.
    """
    if team_id == WEB_TEAM_ID:
        return import_string(settings.WEB_CHAT_BACKEND)(team_id)
    return import_string(settings.CHAT_BACKEND)(team_id)
