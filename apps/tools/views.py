"""The actions audit page of a company's site: every tool call its agents made (arguments as
the audit stores them, secrets masked) and the incidents waiting for the tracker. Read-only:
anyone of the company with the ``tools.view_toolcallrecord`` permission reads it."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.core.privacy import web_chat_person
from apps.core.web import workspace_page
from apps.tools.forms import ToolCallFilterForm
from apps.tools.selectors import incidents_waiting_shown, tool_call_list

PAGE_SIZE = 25
VIEW_PERMISSION = "tools.view_toolcallrecord"


@workspace_page
@require_safe
def actions(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    viewer = web_chat_person(request.user)
    filters = ToolCallFilterForm(request.GET)
    context = {"filters": filters, "incidents": incidents_waiting_shown(viewer=viewer)}
    if not filters.is_valid():
        return render(request, "tools/action_list.html", {**context, "page": None}, status=400)
    calls = tool_call_list(
        viewer=viewer,
        agent=filters.cleaned_data["agent"],
        tool=filters.cleaned_data["tool"],
        status=filters.cleaned_data["status"],
    )
    page = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    for call in page:
        # As stored: the audit masked secrets when it wrote the row; nothing unmasks here.
        # A call made in someone else's private conversation: not even that.
        call.arguments_text = (
            json.dumps(call.arguments, ensure_ascii=False, sort_keys=True)
            if call.text_visible
            else ""
        )
    context["page"] = page
    return render(request, "tools/action_list.html", context)
