"""The conversations and metrics pages of a company's site: anyone of the company with the
``conversations.view_conversation`` permission reads them; nothing here writes.

A direct message serves only its person: the pages show its metadata, never its text (see
``selectors.conversation_text_visible``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from apps.conversations.forms import DEFAULT_METRICS_DAYS, ConversationFilterForm, MetricsFilterForm
from apps.conversations.models import Message
from apps.conversations.selectors import (
    answer_time_median,
    answers_by_day,
    conversation_get,
    conversation_list,
    conversation_messages,
    metrics_days,
    metrics_since,
)
from apps.core.charts import bar_chart, line_chart
from apps.core.privacy import web_chat_person
from apps.core.web import workspace_page
from apps.tools.selectors import tool_call_counts

PAGE_SIZE = 25
VIEW_PERMISSION = "conversations.view_conversation"
STATUS_LABELS = dict(Message.Status.choices)


def _require_view(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied


@workspace_page
@require_safe
def conversations(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    filters = ConversationFilterForm(request.GET)
    if not filters.is_valid():
        context = {"filters": filters, "page": None}
        return render(request, "conversations/conversation_list.html", context, status=400)
    rows = conversation_list(
        viewer=web_chat_person(request.user),
        agent=filters.cleaned_data["agent"],
        query=filters.cleaned_data["q"],
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for conversation in page:
        conversation.last_status_label = STATUS_LABELS.get(conversation.last_status, "")
    context = {"filters": filters, "page": page, "query": filters.cleaned_data["q"]}
    return render(request, "conversations/conversation_list.html", context)


@workspace_page
@require_safe
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    conversation = conversation_get(conversation_id=pk, viewer=web_chat_person(request.user))
    if conversation is None:
        raise Http404
    thread = conversation_messages(conversation=conversation)
    context = {
        "conversation": conversation,
        # A private conversation of someone else: its metadata only, never its text.
        "thread": thread if conversation.text_visible else None,
        "message_count": thread.count(),
    }
    return render(request, "conversations/conversation_detail.html", context)


@workspace_page
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    # The default window, written into the form so that its menu shows the one displayed.
    filters = MetricsFilterForm({"days": DEFAULT_METRICS_DAYS, **request.GET.dict()})
    if not filters.is_valid():
        return render(request, "conversations/metrics.html", {"filters": filters}, status=400)
    agent = filters.cleaned_data["agent"]
    days = metrics_days(days=filters.cleaned_data["days"] or DEFAULT_METRICS_DAYS)
    figures = answers_by_day(days=days, agent=agent)
    actions = tool_call_counts(since=metrics_since(days[0]), agent=agent)
    context = {
        "filters": filters,
        "days": len(days),
        "answers_total": sum(day.answers for day in figures),
        "median_seconds": _seconds(answer_time_median(days=days, agent=agent)),
        "thumbs_up": sum(day.thumbs_up for day in figures),
        "thumbs_down": sum(day.thumbs_down for day in figures),
        "actions_total": sum(count for _tool, count in actions),
        "charts": _metrics_charts(figures, actions),
    }
    return render(request, "conversations/metrics.html", context)


def _metrics_charts(figures, actions) -> list:
    day_heading = _("Day")
    labels = [day.day.strftime("%m-%d") for day in figures]
    return [
        bar_chart(
            list(zip(labels, [day.answers for day in figures], strict=True)),
            title=_("Answers per day"),
            label_heading=day_heading,
            value_heading=_("Answers"),
        ),
        line_chart(
            list(zip(labels, [_seconds(day.median_answer_ms) for day in figures], strict=True)),
            title=_("Median answer time per day"),
            label_heading=day_heading,
            value_heading=_("Median answer time"),
            unit="s",
        ),
        line_chart(
            list(zip(labels, [day.thumbs_up_percent for day in figures], strict=True)),
            title=_("Answers rated 👍 (share of 👍/👎 votes) per day"),
            label_heading=day_heading,
            value_heading=_("👍 share"),
            unit="%",
        ),
        bar_chart(
            actions,
            title=_("Actions by kind"),
            label_heading=_("Tool"),
            value_heading=_("Calls"),
        ),
    ]


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else round(milliseconds / 1000, 1)
