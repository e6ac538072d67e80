"""The set-up wizard on a company's own site (see ``apps.onboarding.wizard``): an overview,
skipping a step, choosing agents and tools, and the closing page. Connecting Slack and Jira
are the pages of their own packages, which show this wizard's "skip" and "next" links."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.agents.selectors import agent_list
from apps.core.web import workspace_page
from apps.onboarding.forms import AgentsChoiceForm
from apps.onboarding.services import setup_agents_save
from apps.onboarding.wizard import (
    STEP_KEYS,
    setup_agents_mark_chosen,
    setup_next_url,
    setup_step_skip,
    setup_steps,
)
from apps.tools.labels import tool_title
from apps.tools.selectors import tool_enabled_for

# Who may change agents and their tools here: the permissions the admin asks for them.
AGENTS_CHANGE_PERMISSIONS = ("agents.change_agent", "tools.change_agenttool")


@workspace_page
@require_http_methods(["GET", "HEAD"])
def setup_overview(request: HttpRequest) -> HttpResponse:
    context = {"steps": setup_steps(request.session), "next_url": setup_next_url(request.session)}
    return render(request, "onboarding/setup_overview.html", context)


@workspace_page
@require_POST
def setup_skip(request: HttpRequest, step: str) -> HttpResponse:
    if step not in STEP_KEYS:
        raise Http404
    setup_step_skip(request.session, step)
    return redirect(setup_next_url(request.session, after=step))


def _agents_form(request: HttpRequest) -> AgentsChoiceForm:
    rows = [
        (
            agent,
            [
                (name, tool_title(name), enabled)
                for name, enabled in tool_enabled_for(agent).items()
            ],
        )
        for agent in agent_list()
    ]
    return AgentsChoiceForm(request.POST or None, rows=rows)


@workspace_page
@require_http_methods(["GET", "HEAD", "POST"])
def setup_agents(request: HttpRequest) -> HttpResponse:
    can_change = request.user.has_perms(AGENTS_CHANGE_PERMISSIONS)
    form = _agents_form(request)
    status = 200
    if request.method == "POST":
        if not can_change:
            messages.error(request, _("You can read these choices; an administrator makes them."))
            status = 403
        elif form.is_valid():
            setup_agents_save(form.choices())
            setup_agents_mark_chosen(request.session)
            messages.success(request, _("Your agents and their tools are saved."))
            return redirect(setup_next_url(request.session, after="agents"))
        else:
            status = 400
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "can_change": can_change, "steps": setup_steps(request.session)}
    return render(request, "onboarding/setup_agents.html", context, status=status)


@workspace_page
@require_http_methods(["GET", "HEAD"])
def setup_done(request: HttpRequest) -> HttpResponse:
    agents = list(agent_list(enabled_only=True))
    context = {"steps": setup_steps(request.session), "agents": agents}
    return render(request, "onboarding/setup_done.html", context)
