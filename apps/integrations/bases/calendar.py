"""The calendar contract: meeting invitations as files any calendar opens (iCalendar today).

Domain code describes the meeting (``MeetingInvite``); the backend (``settings.CALENDAR_BACKEND``,
loaded by its dotted path) renders it. A reschedule is the same ``uid`` with a higher
``sequence``, so calendars update the event they have instead of adding a second.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""


@dataclass(frozen=True)
class MeetingInvite:
    uid: str  # stable across reschedules
    sequence: int  # 0 first, +1 on each change
    title: str
    start: datetime  # aware, in ``time_zone``
    time_zone: str  # IANA name, e.g. "Europe/Paris"
    duration_minutes: int
    organizer: Attendee
    attendees: tuple[Attendee, ...]
    description: str = ""
    url: str = ""  # where the meeting was asked for (the chat thread)


@dataclass(frozen=True)
class RenderedInvite:
    filename: str  # "postmortem-payments-api.ics"
    content: bytes
    content_type: str  # "text/calendar; charset=utf-8; method=REQUEST"


class Calendar(abc.ABC):
    @abc.abstractmethod
    def invite_render(self, invite: MeetingInvite) -> RenderedInvite:
        """The invitation as a file (a request to attend: METHOD:REQUEST), with the time
        zone's definition inside so the start means the same time everywhere."""


def calendar_get() -> Calendar:
    return import_string(settings.CALENDAR_BACKEND)()
