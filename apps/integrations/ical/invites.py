"""Meeting invitations as iCalendar files (RFC 5545 + iTIP's METHOD:REQUEST, RFC 5546).

One VCALENDAR holding one VEVENT and the VTIMEZONE of the invite's zone, so the start means the
same instant in every calendar. A reschedule is the same UID with a higher SEQUENCE: calendars
then update the event they already have instead of adding a second one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from django.utils.text import slugify

from apps.integrations.bases.calendar import (
    Attendee,
    Calendar,
    MeetingInvite,
    RenderedInvite,
)

PRODID = "-//Jamono//Agents//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8; method=REQUEST"
FILENAME_PREFIX = "postmortem"
FILENAME_MAX_CHARS = 60

# C0 controls (and DEL) other than tab and newline: a title or name from a chat message may carry
# them, and they have no place in a calendar line.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A title that already says "Post-mortem ..." would otherwise give "postmortem-post-mortem-...".
_LEADING_POSTMORTEM = re.compile(r"^post-?mortem(?:-|$)")


class IcalCalendar(Calendar):
    """The calendar contract rendered with the ``icalendar`` library. Pure: no I/O, no state."""

    def invite_render(self, invite: MeetingInvite) -> RenderedInvite:
        """The invitation as an ``.ics`` request to attend.

        Raises ValueError for a naive start, an unknown time zone, a duration that is not
        positive, a negative sequence, an empty UID or an organizer without an e-mail.
        """
        zone = _zone_get(invite.time_zone)
        if invite.start.tzinfo is None or invite.start.utcoffset() is None:
            raise ValueError("The meeting's start must be an aware datetime, not a naive one.")
        if invite.duration_minutes <= 0:
            raise ValueError("The meeting's duration must be a positive number of minutes.")
        if invite.sequence < 0:
            raise ValueError("The invitation's sequence cannot be negative.")
        if not invite.uid.strip():
            raise ValueError("The invitation needs a UID.")
        organizer_email = invite.organizer.email.strip()
        if not organizer_email:
            raise ValueError("The invitation needs an organizer with an e-mail address.")

        start = invite.start.astimezone(zone)
        # Elapsed time, not wall-clock time: an hour-long meeting across a DST change still
        # lasts an hour.
        end = start.astimezone(UTC) + timedelta(minutes=invite.duration_minutes)
        end = end.astimezone(zone)

        event = icalendar.Event.new(
            uid=invite.uid.strip(),
            sequence=invite.sequence,
            summary=_text_clean(invite.title),
            description=_description(invite) or None,
            url=invite.url.strip() or None,
            start=start,
            end=end,
            organizer=_address(invite.organizer, organizer=True),
            attendees=[
                _address(attendee, organizer=False)
                for attendee in _attendees_unique(invite.attendees, organizer_email)
            ],
            status=icalendar.STATUS.CONFIRMED,
        )
        calendar = icalendar.Calendar.new(
            prodid=PRODID,
            version="2.0",
            method="REQUEST",
            calscale="GREGORIAN",
            subcomponents=[event],
        )
        # Calendar.new gives the VCALENDAR a random UID (RFC 7986); the meeting's identity is
        # the VEVENT's UID, and a new random one per render would only be noise.
        del calendar["UID"]
        # The zone's rules for the years around the meeting: enough for any calendar to place it,
        # a few hundred bytes instead of the library's default 1970-2038 span.
        calendar.add_missing_timezones(
            first_date=date(start.year, 1, 1), last_date=date(end.year + 2, 1, 1)
        )
        return RenderedInvite(
            filename=invite_filename(invite.title),
            content=calendar.to_ical(),
            content_type=CONTENT_TYPE,
        )


def invite_filename(title: str) -> str:
    """``postmortem-<slug>.ics``: ASCII, no path separators, at most 60 characters."""
    slug = _LEADING_POSTMORTEM.sub("", slugify(title))  # slugify folds "é" to "e", drops "/"
    room = FILENAME_MAX_CHARS - len(f"{FILENAME_PREFIX}-.ics")
    slug = slug[:room].strip("-_")
    return f"{FILENAME_PREFIX}-{slug}.ics" if slug else f"{FILENAME_PREFIX}.ics"


def _zone_get(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        # ZoneInfoNotFoundError is a KeyError; the contract speaks ValueError for bad input.
        raise ValueError(f"Unknown time zone: {name!r}.") from error


def _text_clean(text: str) -> str:
    return _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _description(invite: MeetingInvite) -> str:
    lines = [_text_clean(invite.description)]
    url = invite.url.strip()
    if url and url not in lines[0]:
        lines.append(url)
    return "\n".join(line for line in lines if line)


def _attendees_unique(attendees: tuple[Attendee, ...], organizer_email: str) -> list[Attendee]:
    """Attendees in the order given, once per e-mail (case-insensitive), without the organizer
    (who is already on the ORGANIZER line) and without empty addresses."""
    seen = {_email_key(organizer_email)}
    unique = []
    for attendee in attendees:
        key = _email_key(attendee.email)
        if key and key not in seen:
            seen.add(key)
            unique.append(attendee)
    return unique


def _email_key(email: str) -> str:
    email = email.strip()
    if email[:7].lower() == "mailto:":
        email = email[7:]
    return email.casefold()


def _address(person: Attendee, *, organizer: bool) -> icalendar.vCalAddress:
    name = _text_clean(person.name) or None
    if organizer:
        return icalendar.vCalAddress.new(person.email.strip(), cn=name)
    return icalendar.vCalAddress.new(
        person.email.strip(),
        cn=name,
        role=icalendar.ROLE.REQ_PARTICIPANT,
        partstat=icalendar.PARTSTAT.NEEDS_ACTION,
        rsvp=True,
    )
