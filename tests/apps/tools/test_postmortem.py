"""postmortem_schedule: an invitation in the requester's time zone, uploaded to the thread
(files upload v2 on the Slack double), e-mailed, parsed back with icalendar; a second call
reschedules the same event."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.models import Message
from apps.integrations.bases.chat import ChatThread, chat_for_team
from apps.integrations.bases.llm import ToolCall
from apps.tools.catalog import TOOLS
from apps.tools.executor import CallOutcome, tool_call_run
from apps.tools.models import PostmortemMeeting, ToolCallRecord
from apps.tools.registry import ToolContext
from tests.apps.tools.helpers import question_make
from tests.factories import SlackWorkspaceFactory, slack_token

CHANNEL = "C0TOOLS01"


@pytest.fixture
def slack_thread(tenant_a, slack_double, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token, bot_user_id="U0BOTPM01")
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id="U0BOTPM01")
    slack_double.add_user("U0ASKER", email="asker@acme.test", tz="Europe/Paris", real_name="Ana")
    slack_double.add_user("U0OTHER", email="other@acme.test", tz="America/New_York")
    with schema_context(tenant_a.schema_name):
        agent = Agent.objects.get(slug="nox")
        question = question_make(agent)
        # Someone else spoke in the thread too: they are invited.
        Message.objects.create(
            conversation=question.conversation,
            role=Message.Role.USER,
            status=Message.Status.ANSWERED,
            slack_user_id="U0OTHER",
            team_id="T0TOOLS",
            channel_id=CHANNEL,
            slack_ts="1700009999.000100",
            text="I saw it too",
        )
        chat = chat_for_team(workspace.team_id)
        thread = ChatThread(channel=CHANNEL, thread_ts=question.conversation.thread_ts)
        yield ToolContext(
            agent=agent,
            schema_name=connection.schema_name,
            requested_by="U0ASKER",
            chat=chat,
            thread=thread,
            question_ts=question.slack_ts,
            participants=("U0ASKER", "U0OTHER"),
            question_id=question.pk,
            conversation_id=question.conversation_id,
        )


def schedule(context, ordinal=1, **arguments):
    tool = TOOLS["postmortem_schedule"]
    return tool_call_run(
        context,
        ToolCall(name=tool.name, arguments=arguments),
        offered={tool.name: tool},
        ordinal=ordinal,
    )


def tomorrow_at(hour: int, zone: str = "Europe/Paris") -> datetime:
    day = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=ZoneInfo(zone))


def test_the_invitation_is_uploaded_to_the_thread_in_the_requesters_time_zone(
    slack_thread, slack_double
):
    start = tomorrow_at(14)

    report = schedule(
        slack_thread,
        title="Post-mortem: payments API down",
        start=start.strftime("%Y-%m-%dT%H:%M"),
        attendees=["sre-lead@acme.test", "ASKER@acme.test"],
        jira_key="PAY-1",
    )

    assert report.outcome == CallOutcome.DONE, report.model_text
    files = slack_double.files(CHANNEL)
    assert len(files) == 1 and files[0]["filename"].endswith(".ics")
    assert files[0]["thread_ts"] == slack_thread.thread.thread_ts
    calendar = icalendar.Calendar.from_ical(files[0]["content"])
    assert str(calendar["METHOD"]) == "REQUEST"
    event = next(iter(calendar.walk("VEVENT")))
    assert event["DTSTART"].dt == start
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    attendees = {str(a).removeprefix("mailto:").lower() for a in event.get("ATTENDEE")}
    assert attendees == {"other@acme.test", "sre-lead@acme.test"}  # the organizer is not one
    assert str(event["ORGANIZER"]).removeprefix("mailto:") == "asker@acme.test"
    assert "PAY-1" in str(event["DESCRIPTION"])
    link = f"/archives/{CHANNEL}/p{slack_thread.question_ts.replace('.', '')}"
    assert slack_thread.thread_url.endswith(link) and link in str(event["DESCRIPTION"])
    assert len(mail.outbox) == 1
    # The organizer gets the e-mail too: the event goes into their calendar as well.
    assert sorted(mail.outbox[0].to) == ["asker@acme.test", "other@acme.test", "sre-lead@acme.test"]
    assert mail.outbox[0].attachments[0][0].endswith(".ics")
    record = ToolCallRecord.objects.get(pk=report.record_id)
    assert record.status == ToolCallRecord.Status.DONE and record.result["jira_key"] == "PAY-1"


def test_scheduling_again_reschedules_the_same_event(slack_thread, slack_double):
    schedule(slack_thread, title="Post-mortem", start=tomorrow_at(14).strftime("%Y-%m-%dT%H:%M"))
    later = tomorrow_at(16)

    report = schedule(
        slack_thread, ordinal=2, title="Post-mortem", start=later.strftime("%Y-%m-%dT%H:%M")
    )

    assert report.outcome == CallOutcome.DONE
    first, second = (
        next(iter(icalendar.Calendar.from_ical(f["content"]).walk("VEVENT")))
        for f in slack_double.files(CHANNEL)
    )
    assert str(first["UID"]) == str(second["UID"])
    assert int(second["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert second["DTSTART"].dt == later
    assert PostmortemMeeting.objects.get().sequence == 1


def test_a_start_in_the_past_or_not_a_date_is_refused_and_nothing_is_uploaded(
    slack_thread, slack_double
):
    yesterday = tomorrow_at(14) - timedelta(days=2)

    past = schedule(slack_thread, title="PM", start=yesterday.strftime("%Y-%m-%dT%H:%M"))
    nonsense = schedule(slack_thread, ordinal=2, title="PM", start="2026-13-45T99:99")

    assert past.outcome == CallOutcome.REFUSED and "in the past" in past.note
    assert nonsense.outcome == CallOutcome.REFUSED and "ISO-8601" in nonsense.note
    assert slack_double.files(CHANNEL) == []
    assert mail.outbox == []
