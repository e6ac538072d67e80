"""The page where a person of the company asks an agent (``/chat/<agent>/``); the questions
and answers travel over its socket (``consumers``), the page itself holds no data."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.agents.models import Agent
from apps.agents.selectors import agent_list
from apps.conversations.services import MAX_QUESTION_CHARS
from apps.core.web import workspace_page


@workspace_page
@require_http_methods(["GET", "HEAD"])
def agent_chat(request: HttpRequest, slug: str) -> HttpResponse:
    agent = Agent.objects.filter(slug=slug).first()
    if agent is None:
        raise Http404
    context = {
        "agent": agent,
        "agents": agent_list(enabled_only=True),
        "socket_path": f"/ws/chat/{agent.slug}/",
        "max_chars": MAX_QUESTION_CHARS,
    }
    return render(request, "web/chat.html", context)
