"""The iCalendar backend of the calendar contract: every test renders an invite and reads it back
with ``icalendar``, as a calendar client would."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from apps.integrations.bases.calendar import Attendee, MeetingInvite, calendar_get
from apps.integrations.ical.invites import IcalCalendar

PARIS = ZoneInfo("Europe/Paris")
SLACK_THREAD = "https://acme.slack.com/archives/C0INCIDENT/p1717171717000100"


def invite_make(**changes) -> MeetingInvite:
    invite = MeetingInvite(
        uid="postmortem-7f3a@jamono",
        sequence=0,
        title="Post-mortem: payments API down",
        start=datetime(2025, 6, 12, 14, 0, tzinfo=PARIS),
        time_zone="Europe/Paris",
        duration_minutes=60,
        organizer=Attendee(email="nora@acme.example", name="Nora Ops"),
        attendees=(
            Attendee(email="alice@acme.example", name="Alice"),
            Attendee(email="bob@acme.example"),
        ),
        description="Incident OPS-42: payments API down since 10:05.",
        url=SLACK_THREAD,
    )
    return dataclasses.replace(invite, **changes)


def event_of(invite: MeetingInvite) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(IcalCalendar().invite_render(invite).content)
    (event,) = calendar.events
    return event


def mailtos(event: icalendar.Event) -> set[str]:
    return {str(attendee).lower() for attendee in event.attendees}


def test_the_configured_backend_is_the_icalendar_one():
    assert isinstance(calendar_get(), IcalCalendar)


def test_the_invite_is_a_request_with_exactly_one_event():
    rendered = IcalCalendar().invite_render(invite_make())

    calendar = icalendar.Calendar.from_ical(rendered.content)

    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//Jamono//Agents//EN"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert len(calendar.events) == 1
    assert calendar.events[0]["STATUS"] == "CONFIRMED"
    assert "DTSTAMP" in calendar.events[0]
    assert rendered.content_type == "text/calendar; charset=utf-8; method=REQUEST"


def test_the_content_uses_crlf_line_endings():
    content = IcalCalendar().invite_render(invite_make()).content

    assert content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"\n" not in content.replace(b"\r\n", b"")


def test_the_start_is_14h_paris_time_with_its_tzid():
    event = event_of(invite_make())

    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.start.replace(tzinfo=None) == datetime(2025, 6, 12, 14, 0)
    assert event.start == datetime(2025, 6, 12, 12, 0, tzinfo=UTC)  # CEST is UTC+2
    assert event.end == datetime(2025, 6, 12, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local_day", "utc_hour"),
    [
        ((2025, 3, 29), 13),  # the Saturday before summer time: CET, UTC+1
        ((2025, 3, 30), 12),  # the day summer time starts: CEST, UTC+2
        ((2025, 10, 25), 12),  # the Saturday before winter time: CEST, UTC+2
        ((2025, 10, 26), 13),  # the day winter time starts: CET, UTC+1
    ],
)
def test_14h_paris_is_the_right_utc_instant_on_both_sides_of_a_dst_change(local_day, utc_hour):
    event = event_of(invite_make(start=datetime(*local_day, 14, 0, tzinfo=PARIS)))

    assert event.start.replace(tzinfo=None) == datetime(*local_day, 14, 0)
    assert event.start.astimezone(UTC) == datetime(*local_day, utc_hour, 0, tzinfo=UTC)


def test_a_start_given_in_another_zone_is_written_in_the_invite_zone():
    event = event_of(invite_make(start=datetime(2025, 6, 12, 12, 0, tzinfo=UTC)))

    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.start.replace(tzinfo=None) == datetime(2025, 6, 12, 14, 0)


def test_the_calendar_carries_the_vtimezone_of_the_invite_zone():
    rendered = IcalCalendar().invite_render(invite_make())

    calendar = icalendar.Calendar.from_ical(rendered.content)

    assert [timezone.tz_name for timezone in calendar.timezones] == ["Europe/Paris"]
    assert calendar.get_missing_tzids() == set()


def test_attendees_are_deduplicated_by_email_and_exclude_the_organizer():
    invite = invite_make(
        attendees=(
            Attendee(email="alice@acme.example", name="Alice"),
            Attendee(email="ALICE@acme.example", name="Alice again"),
            Attendee(email="Nora@Acme.example", name="Nora Ops"),  # the organizer
            Attendee(email="bob@acme.example"),
            Attendee(email="  "),
        )
    )

    event = event_of(invite)

    assert mailtos(event) == {"mailto:alice@acme.example", "mailto:bob@acme.example"}
    assert len(event.attendees) == 2


def test_attendees_are_asked_to_answer_and_named_when_known():
    alice, bob = event_of(invite_make()).attendees

    assert alice.params["CN"] == "Alice"
    assert "CN" not in bob.params
    for attendee in (alice, bob):
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"


def test_the_organizer_is_a_mailto_with_a_common_name():
    organizer = event_of(invite_make()).organizer

    assert str(organizer) == "mailto:nora@acme.example"
    assert organizer.params["CN"] == "Nora Ops"


def test_uid_and_sequence_round_trip():
    event = event_of(invite_make(sequence=3))

    assert event.uid == "postmortem-7f3a@jamono"
    assert event.sequence == 3


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence():
    first = invite_make()
    moved = dataclasses.replace(
        first, sequence=first.sequence + 1, start=datetime(2025, 6, 13, 10, 0, tzinfo=PARIS)
    )

    before, after = event_of(first), event_of(moved)

    assert after.uid == before.uid
    assert after.sequence > before.sequence
    assert after.start == datetime(2025, 6, 13, 8, 0, tzinfo=UTC)


def test_the_description_holds_the_jira_key_and_the_thread_link():
    event = event_of(invite_make())

    assert "OPS-42" in event.description
    assert event.description.splitlines()[-1] == SLACK_THREAD
    assert event["URL"] == SLACK_THREAD


def test_without_a_url_there_is_no_url_line():
    event = event_of(invite_make(url=""))

    assert "URL" not in event
    assert event.description == "Incident OPS-42: payments API down since 10:05."


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="aware"):
        IcalCalendar().invite_render(invite_make(start=datetime(2025, 6, 12, 14, 0)))


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd"])
def test_an_unknown_time_zone_is_refused(zone):
    with pytest.raises(ValueError, match="time zone"):
        IcalCalendar().invite_render(invite_make(time_zone=zone))


def test_a_duration_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="duration"):
        IcalCalendar().invite_render(invite_make(duration_minutes=0))


@pytest.mark.parametrize(
    ("title", "filename"),
    [
        ("Post-mortem: payments API down", "postmortem-payments-api-down.ics"),
        ("Zoé's API / ../../etc/passwd", "postmortem-zoes-api-etcpasswd.ics"),
        ("支払い", "postmortem.ics"),
    ],
)
def test_the_filename_is_a_safe_ascii_slug_of_the_title(title, filename):
    assert IcalCalendar().invite_render(invite_make(title=title)).filename == filename


def test_a_long_title_gives_a_filename_of_at_most_60_characters():
    filename = IcalCalendar().invite_render(invite_make(title="Outage " * 30)).filename

    assert len(filename) <= 60
    assert filename.startswith("postmortem-outage-")
    assert filename.endswith(".ics")
    assert "-.ics" not in filename


def test_control_characters_in_the_title_do_not_reach_the_file():
    event = event_of(invite_make(title="Payments\x00 API\x1b down"))

    assert event["SUMMARY"] == "Payments API down"
