"""postmortem_schedule: an iCalendar invitation uploaded to the thread and e-mailed.

The meeting is the conversation's: asking again reschedules it (same UID, SEQUENCE + 1), so
calendars move the event they have instead of adding a second one. Times are the requester's
local time (their chat profile's time zone)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.integrations.bases.calendar import (
    Attendee,
    MeetingInvite,
    RenderedInvite,
    calendar_get,
)
from apps.integrations.bases.chat import ChatPostError, ChatUserProfile
from apps.tools.models import PostmortemMeeting
from apps.tools.registry import ToolContext, ToolOutcome, ToolRefused, ToolUnavailable

logger = logging.getLogger(__name__)

DEFAULT_DURATION_MINUTES = 60


def postmortem_schedule(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    if context.chat is None or context.thread is None or context.conversation_id is None:
        raise ToolRefused(_("A post-mortem can only be scheduled from a conversation."))
    requester = _profile(context, context.requested_by)
    zone_name = _zone_of(requester)
    start = start_parse(args["start"], zone_name)
    if start < timezone.now():
        raise ToolRefused(
            _("The start %(start)s is in the past (time zone %(zone)s).")
            % {"start": start.isoformat(), "zone": zone_name}
        )
    attendees = _attendees(context, args.get("attendees") or [], organizer=requester)
    duration = int(args.get("duration_minutes") or DEFAULT_DURATION_MINUTES)
    with transaction.atomic():
        meeting = _meeting_saved(context, args, start, zone_name, duration, attendees)
    invite = MeetingInvite(
        uid=meeting.uid,
        sequence=meeting.sequence,
        title=meeting.title,
        start=start,
        time_zone=zone_name,
        duration_minutes=duration,
        organizer=Attendee(
            email=requester.email or settings.DEFAULT_FROM_EMAIL, name=requester.real_name
        ),
        attendees=tuple(Attendee(email=email) for email in attendees),
        description=_description(meeting.jira_key, context.thread_url),
        url=context.thread_url,
    )
    rendered = calendar_get().invite_render(invite)
    try:
        file_id = context.chat.upload_file(
            context.thread,
            filename=rendered.filename,
            content=rendered.content,
            title=meeting.title,
            comment=_("Post-mortem invitation: %(title)s, %(when)s (%(zone)s)")
            % {"title": meeting.title, "when": start.strftime("%Y-%m-%d %H:%M"), "zone": zone_name},
        )
    except ChatPostError as exc:
        raise ToolUnavailable(f"the invitation could not be uploaded: {exc.code}") from exc
    emailed = _email(invite, rendered) if attendees else 0
    return ToolOutcome(
        result={
            "uid": meeting.uid,
            "sequence": meeting.sequence,
            "start": start.isoformat(),
            "time_zone": zone_name,
            "duration_minutes": duration,
            "attendees": attendees,
            "jira_key": meeting.jira_key,
            "file_id": file_id,
            "emailed_to": emailed,
        },
        summary=(
            _("Rescheduled the post-mortem to %(when)s")
            if meeting.sequence
            else _("Scheduled the post-mortem for %(when)s")
        )
        % {"when": f"{start.strftime('%Y-%m-%d %H:%M')} {zone_name}"},
    )


def start_parse(value: str, zone_name: str) -> datetime:
    """An ISO-8601 date-time; without an offset it is local time in ``zone_name``."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ToolRefused(
            _("“%(value)s” is not an ISO-8601 date-time such as 2026-03-05T14:00.")
            % {"value": value[:40]}
        ) from exc
    zone = ZoneInfo(zone_name)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone)
    return parsed.astimezone(zone)


def _profile(context: ToolContext, user_id: str) -> ChatUserProfile:
    try:
        return context.chat.user_profile(user_id)
    except ChatPostError:
        return ChatUserProfile(user_id=user_id, email="", time_zone="", real_name="")


def _zone_of(profile: ChatUserProfile) -> str:
    for candidate in (profile.time_zone, settings.TIME_ZONE):
        try:
            ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return candidate
    return "UTC"


def _attendees(context: ToolContext, named: list[str], *, organizer: ChatUserProfile) -> list[str]:
    """The thread's participants (their chat profile e-mails) and those named, once each."""
    emails: list[str] = []
    for user_id in context.participants:
        profile = organizer if user_id == organizer.user_id else _profile(context, user_id)
        if profile.email:
            emails.append(profile.email)
    emails.extend(named)
    seen: set[str] = set()
    unique = []
    for email in emails:
        if email.lower() not in seen:
            seen.add(email.lower())
            unique.append(email)
    return unique


def _meeting_saved(
    context: ToolContext,
    args: dict[str, Any],
    start: datetime,
    zone_name: str,
    duration: int,
    attendees: list[str],
) -> PostmortemMeeting:
    meeting = (
        PostmortemMeeting.objects.select_for_update()
        .filter(conversation_id=context.conversation_id)
        .first()
    )
    if meeting is None:
        meeting = PostmortemMeeting(
            conversation_id=context.conversation_id,
            uid=f"postmortem-{context.schema_name}-{context.conversation_id}@jamono",
            sequence=0,
        )
    else:
        meeting.sequence += 1
    meeting.title = args["title"]
    meeting.start = start
    meeting.time_zone = zone_name
    meeting.duration_minutes = duration
    meeting.attendees = attendees
    meeting.jira_key = args.get("jira_key") or meeting.jira_key
    meeting.save()
    return meeting


def _description(jira_key: str, thread_url: str) -> str:
    lines = [_("Post-mortem scheduled by Jamono.")]
    if jira_key:
        lines.append(_("Jira: %(key)s") % {"key": jira_key})
    if thread_url:
        lines.append(_("Slack thread: %(url)s") % {"url": thread_url})
    return "\n".join(lines)


def _email(invite: MeetingInvite, rendered: RenderedInvite) -> int:
    """Sent through Django's e-mail backend (console unless SMTP is configured)."""
    message = EmailMessage(
        subject=invite.title,
        body=invite.description + f"\n\n{invite.start.isoformat()} ({invite.time_zone})",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[attendee.email for attendee in invite.attendees],
    )
    message.attach(rendered.filename, rendered.content, rendered.content_type)
    try:
        message.send()
    except OSError as exc:  # SMTP down: the invitation is in the thread all the same
        logger.warning("The post-mortem invitation could not be e-mailed: %s", exc)
        return 0
    return len(invite.attendees)
