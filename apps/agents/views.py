"""The company's agents page (its own host): every agent's settings; people who may change
agents (the ``agents.change_agent`` permission, administrators) edit them, others read."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.agents.forms import AgentSettingsForm
from apps.agents.models import Agent
from apps.agents.selectors import agent_list
from apps.core.web import workspace_page


def _page(request: HttpRequest, forms: dict, *, status: int = 200) -> HttpResponse:
    can_change = request.user.has_perm("agents.change_agent")
    rows = [
        (agent, forms.get(agent.slug) or AgentSettingsForm(instance=agent))
        for agent in agent_list()
    ]
    if not can_change:
        for _agent, form in rows:
            for field in form.fields.values():
                field.disabled = True
    context = {"rows": rows, "can_change": can_change}
    return render(request, "agents/agent_settings.html", context, status=status)


@workspace_page
@require_http_methods(["GET", "HEAD"])
def agent_settings(request: HttpRequest) -> HttpResponse:
    return _page(request, {})


@workspace_page
@require_http_methods(["POST"])
def agent_settings_change(request: HttpRequest, slug: str) -> HttpResponse:
    agent = Agent.objects.filter(slug=slug).first()
    if agent is None:
        raise Http404
    if not request.user.has_perm("agents.change_agent"):
        messages.error(request, _("You can read these settings; an administrator changes them."))
        return _page(request, {}, status=403)
    form = AgentSettingsForm(request.POST, instance=agent)
    if not form.is_valid():
        return _page(request, {slug: form}, status=400)
    form.save()
    messages.success(request, _("%(agent)s is saved.") % {"agent": agent.name})
    return redirect("agent-settings")
