"""The tool registry: what each tool is (its public name, parameters, risk, the integration it
needs, the agents that may use it) and the plain data a tool runs with.

The names and parameters are a public contract (agents' YAML, docs, tests): add tools, never
rename one. The catalogue itself is in ``apps.tools.catalog``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from apps.agents.models import Agent
from apps.integrations.bases.chat import Chat, ChatPostError, ChatThread
from apps.tools.models import Risk, ToolCallRecord


class Integration:
    """What a tool needs connected before it is offered."""

    NONE = ""
    TICKETING = "ticketing"  # the tenant's issue tracker (Jira)
    CHAT = "chat"  # the thread the question came from (files, people's profiles)


@dataclass(frozen=True)
class ToolContext:
    """Who asked, where, for which agent: everything a tool may use besides its arguments.
    Never holds a secret (it is not shown to the model, but keep it that way)."""

    agent: Agent
    schema_name: str
    requested_by: str = ""  # the chat user id of the person who asked
    chat: Chat | None = None
    thread: ChatThread | None = None
    question_ts: str = ""  # the question's message in the thread (for a link to it)
    participants: tuple[str, ...] = ()  # chat user ids who spoke in the thread
    question_id: int | None = None
    conversation_id: int | None = None
    # Names this one call across retries (the executor sets it): a tool's idempotency key.
    call_key: str = ""

    @cached_property
    def thread_url(self) -> str:
        """A link back to the question in its thread ("" when the chat cannot give one),
        asked of the chat only by the tools that put it somewhere (tickets, invitations)."""
        if self.chat is None or self.thread is None or not self.question_ts:
            return ""
        try:
            return self.chat.permalink(channel=self.thread.channel, ts=self.question_ts)
        except ChatPostError:
            return ""


@dataclass(frozen=True)
class ToolOutcome:
    """What a tool did: ``result`` goes to the model (size-capped) and the audit; ``summary``
    is the plain-words line people see ("Created PAY-12"); ``link`` is shown under the
    answer when set."""

    result: dict[str, Any]
    summary: str
    link: str = ""


class ToolRefused(Exception):
    """The tool will not do this (a host not allow-listed, a status that does not exist…):
    said to the model and the person in plain words; retrying does not help."""


class ToolUnavailable(Exception):
    """A service the tool needs is unreachable or overloaded: retried with backoff."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # a JSON schema of an object
    risk: str  # Risk
    run: Callable[[ToolContext, dict[str, Any]], ToolOutcome]
    integration: str = Integration.NONE
    # The agents (slugs) that may use it; the tenant switches it on or off per agent.
    agents: frozenset[str] = field(default_factory=frozenset)
    # Called when the call ends without being done (refused by the service, or still
    # unavailable after the retries) so nothing is lost: keeps the request (an incident
    # record…) and returns what to tell the person, or "".
    keep_undone: Callable[[ToolContext, dict[str, Any], ToolCallRecord, Exception], str] | None = (
        None
    )

    def __post_init__(self) -> None:
        if self.risk not in Risk.values:
            raise ValueError(f"tool {self.name}: unknown risk {self.risk!r}")
        if self.parameters.get("type") != "object":
            raise ValueError(f"tool {self.name}: parameters must be an object schema")
