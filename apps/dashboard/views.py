"""The company's home page (its own host's ``/``): its agents, and what they are doing, live."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.agents.selectors import agent_list
from apps.conversations.models import Message
from apps.core.web import workspace_page
from apps.dashboard.selectors import activity_recent
from apps.tools.models import ToolCallRecord
from apps.votes.models import Vote

ACTIVITY_SOCKET_PATH = "/ws/activity/"


def activity_labels() -> dict[str, str]:
    """The words the page's script shows (it builds lines of live events), translated here."""
    return {
        "question": _("Question"),
        "thinking": _("Thinking"),
        "answer": _("Answer"),
        "tool_call": _("Tool call"),
        "failed": _("Failed"),
        "vote": _("Vote"),
        "approvals": _("Approvals"),
        "rejections": _("Rejections"),
        "needed": _("needed"),
        "direct": _("direct message"),
        "sources": _("Sources"),
        "live": _("live"),
        "reconnecting": _("reconnecting…"),
        "logged_out": _("logged out: reload the page to log in again"),
    }


def activity_statuses() -> dict[str, str]:
    """Status names of questions, tool calls and votes, for the script's lines."""
    return {
        **dict(Message.Status.choices),
        **dict(ToolCallRecord.Status.choices),
        **dict(Vote.Status.choices),
    }


@workspace_page
@require_http_methods(["GET", "HEAD"])
def dashboard_home(request: HttpRequest) -> HttpResponse:
    labels = activity_labels()
    context = {
        "agents": agent_list(),
        "lines": [(line, labels[line.kind]) for line in activity_recent()],
        "labels": labels,
        "statuses_json": json.dumps(
            {key: str(label) for key, label in activity_statuses().items()}
        ),
        "socket_path": ACTIVITY_SOCKET_PATH,
    }
    return render(request, "dashboard/home.html", context)
