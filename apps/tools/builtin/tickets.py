"""Jira tools, through the ticketing contract: create, comment, transition, search.

A create is exactly once per call (the executor's call key is its idempotency key); a ticket
the tracker refuses, or that cannot reach it, becomes a local incident retried until it has
its key (``keep_undone``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.core.tenant_tasks import enqueue_for_tenant
from apps.integrations.bases.ticketing import (
    TicketingError,
    TicketingNotConnected,
    TicketingRefused,
    TicketingUnavailable,
    ticketing_for_tenant,
)
from apps.tools.models import Incident, ToolCallRecord
from apps.tools.registry import ToolContext, ToolOutcome, ToolRefused, ToolUnavailable

INCIDENTS_RETRY_TASK = "apps.tools.tasks.incidents_retry_task"
# A tracker that was unreachable is tried again this long after (seconds), then by the sweep.
INCIDENT_RETRY_COUNTDOWN_S = 60


def _tracker():
    try:
        return ticketing_for_tenant()
    except TicketingNotConnected as exc:
        raise ToolRefused(_("No Jira is connected for this workspace.")) from exc


def _translated(exc: TicketingError) -> Exception:
    if isinstance(exc, TicketingUnavailable):
        return ToolUnavailable(str(exc))
    return ToolRefused(str(exc))


def description_with_thread(description: str, thread_url: str) -> str:
    if not thread_url:
        return description
    return f"{description}\n\n{_('Asked in Slack:')} {thread_url}"


def jira_create_issue(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    tracker = _tracker()
    try:
        ref = tracker.issue_create(
            summary=args["summary"],
            description=description_with_thread(args["description"], context.thread_url),
            idempotency_key=context.call_key,
            project=args.get("project") or None,
            issue_type=args.get("issue_type") or None,
            priority=args.get("priority") or None,
        )
    except TicketingError as exc:
        raise _translated(exc) from exc
    return ToolOutcome(
        result={"key": ref.key, "url": ref.url},
        summary=_("Created Jira issue %(key)s") % {"key": ref.key},
        link=ref.url,
    )


def jira_create_issue_keep(
    context: ToolContext, args: dict[str, Any], record: ToolCallRecord, error: Exception
) -> str:
    """A ticket that could not be created is kept as a local incident, retried later."""
    cause = error.__cause__ if isinstance(error.__cause__, TicketingError) else error
    missing = [field.name for field in getattr(cause, "missing_fields", ())]
    incident, _created = Incident.objects.update_or_create(
        idempotency_key=context.call_key,
        defaults={
            "tool_call": record,
            "summary": args["summary"][:255],
            "description": description_with_thread(args["description"], context.thread_url),
            "project": args.get("project") or "",
            "issue_type": args.get("issue_type") or "",
            "priority": args.get("priority") or "",
            "status": Incident.Status.WAITING,
            "missing_fields": missing,
            "last_error": str(error)[:2000],
        },
    )
    if isinstance(cause, TicketingRefused) and missing:
        fields = ", ".join(f"“{name}”" for name in missing)
        return _(
            "Jira refused the ticket: it requires %(fields)s. I kept it as incident "
            "#%(number)s; it will be created in Jira once an admin maps that field "
            '(manage.py connect_jira … --field "%(example)s=…").'
        ) % {"fields": fields, "number": incident.pk, "example": missing[0]}
    if not isinstance(error, ToolUnavailable):
        return _(
            "Jira did not take the ticket (%(reason)s). I kept it as incident #%(number)s; it "
            "is retried regularly and from the admin."
        ) % {"reason": str(cause)[:200], "number": incident.pk}
    enqueue_for_tenant(
        INCIDENTS_RETRY_TASK, schema_name=context.schema_name, countdown=INCIDENT_RETRY_COUNTDOWN_S
    )
    return _(
        "Jira cannot be reached right now. I kept the ticket as incident #%(number)s; it "
        "will be created as soon as Jira answers."
    ) % {"number": incident.pk}


def jira_add_comment(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    tracker = _tracker()
    try:
        comment_id = tracker.comment_add(key=args["key"], body=args["body"])
    except TicketingError as exc:
        raise _translated(exc) from exc
    return ToolOutcome(
        result={"key": args["key"], "comment_id": comment_id},
        summary=_("Commented on %(key)s") % {"key": args["key"]},
    )


def jira_transition_issue(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    tracker = _tracker()
    try:
        status = tracker.issue_transition(key=args["key"], status=args["status"])
    except TicketingError as exc:
        raise _translated(exc) from exc
    return ToolOutcome(
        result={"key": args["key"], "status": status},
        summary=_("Moved %(key)s to %(status)s") % {"key": args["key"], "status": status},
    )


def jira_search_issues(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    tracker = _tracker()
    try:
        found = tracker.issues_search(query=args["jql"], max_results=args.get("max_results", 10))
    except TicketingError as exc:
        raise _translated(exc) from exc
    return ToolOutcome(
        result={
            "issues": [
                {
                    "key": issue.key,
                    "summary": issue.summary,
                    "status": issue.status,
                    "assignee": issue.assignee,
                    "url": issue.url,
                }
                for issue in found
            ]
        },
        summary=_("Searched Jira: %(count)d issues") % {"count": len(found)},
    )
