"""The ticketing contract: what domain code may ask of an issue tracker (Jira today).

Domain apps import this module, never a vendor SDK. The tenant's tracker is loaded by its
dotted path (``settings.TICKETING_BACKEND``), so nothing here imports a vendor package.

Errors say what to do next: ``TicketingUnavailable`` is transient (try again later, with the
same idempotency key); ``TicketingRefused`` will not change by retrying until someone fixes
what it names (a required field, a status that does not exist); ``TicketingNotConnected``
means the tenant has no tracker connected.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class TicketingError(Exception):
    """Anything that keeps the tracker from doing what was asked. The message is safe to show
    (never a token)."""


class TicketingNotConnected(TicketingError):
    """The current tenant has no issue tracker connected."""


class TicketingUnavailable(TicketingError):
    """The tracker cannot be reached or is overloaded right now (connection error, timeout,
    429, 5xx): the same request may succeed later."""


@dataclass(frozen=True)
class MissingField:
    """A field the tracker requires that we do not fill: its id and its name in plain words."""

    field_id: str
    name: str


class TicketingRefused(TicketingError):
    """The tracker answered and said no (a required field, an unknown project or status, a
    rejected token). ``missing_fields``: required fields it named, when it named any."""

    def __init__(self, message: str, *, missing_fields: tuple[MissingField, ...] = ()):
        super().__init__(message)
        self.missing_fields = missing_fields


@dataclass(frozen=True)
class TicketRef:
    key: str  # "PAY-123"
    url: str  # the issue's page for people
    created: bool = True  # False: an earlier attempt had created it (found by idempotency key)


@dataclass(frozen=True)
class TicketSummary:
    key: str
    url: str
    summary: str
    status: str
    assignee: str = ""


class Ticketing(abc.ABC):
    """One tenant's issue tracker. Every method raises a ``TicketingError``."""

    @classmethod
    @abc.abstractmethod
    def connected(cls) -> bool:
        """Whether the current tenant has this tracker connected (no network)."""

    @abc.abstractmethod
    def issue_create(
        self,
        *,
        summary: str,
        description: str,
        idempotency_key: str,
        project: str | None = None,
        issue_type: str | None = None,
        priority: str | None = None,
    ) -> TicketRef:
        """Create an issue exactly once per ``idempotency_key``: a call repeated with the same
        key (after a timeout, a 5xx, a worker restart) returns the issue the first one made
        instead of making a second. ``project``/``issue_type`` default to the connection's."""

    @abc.abstractmethod
    def comment_add(self, *, key: str, body: str) -> str:
        """Comment on an issue; the comment's id."""

    @abc.abstractmethod
    def issue_transition(self, *, key: str, status: str) -> str:
        """Move an issue to the status named ``status`` (matched without case) through the
        transition that leads there; the new status name. Refused when none leads there,
        naming the ones that do exist."""

    @abc.abstractmethod
    def issues_search(self, *, query: str, max_results: int) -> list[TicketSummary]:
        """Issues matching the tracker's query language (JQL for Jira)."""

    @abc.abstractmethod
    def create_fields_missing(
        self, *, project: str | None = None, issue_type: str | None = None
    ) -> list[MissingField]:
        """A dry run of ``issue_create``'s field mapping: the required fields of the project's
        issue type that a create would leave empty."""


def ticketing_backend() -> type[Ticketing]:
    return import_string(settings.TICKETING_BACKEND)


def ticketing_connected() -> bool:
    """Whether the current tenant has an issue tracker connected."""
    return ticketing_backend().connected()


def ticketing_for_tenant() -> Ticketing:
    """The current tenant's tracker; ``TicketingNotConnected`` when it has none."""
    return ticketing_backend()()
