"""The company's "Connect Slack" page, on its own host, for its staff: "Add to Slack" when
this install has a Slack app of its own, or the manifest of one to create, then its token."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.accounts.models import Role
from apps.accounts.selectors import role_of
from apps.core.web import workspace_page
from apps.integrations.slack.install import slack_install_invite_create
from apps.integrations.slack.models import SlackWorkspace
from apps.integrations.slack.services import WorkspaceValidationError
from apps.integrations.slack.setup import slack_app_manifest, slack_connect_with_token


def may_connect(user) -> bool:
    """Owners and admins connect Slack; members read the page."""
    return role_of(user) in (Role.OWNER, Role.ADMIN)


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    base_url = request.build_absolute_uri("/")
    install_url = ""
    # An install link is made for people who may connect Slack only.
    if settings.SLACK_CLIENT_ID and settings.SLACK_CLIENT_SECRET and may_connect(request.user):
        invite = slack_install_invite_create(schema_name=connection.schema_name)
        path = reverse("workspaces:slack_install", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
        install_url = f"{base_url.rstrip('/')}{path}?{urlencode({'invite': invite})}"
    context = {
        "manifest": json.dumps(slack_app_manifest(base_url=base_url), indent=2),
        "install_url": install_url,
        "workspaces": SlackWorkspace.objects.filter(
            tenant__schema_name=connection.schema_name, is_active=True
        ).order_by("team_name"),
        "error": error,
        "can_connect": may_connect(request.user),
    }
    return render(request, "workspaces/slack_setup.html", context, status=status)


@workspace_page
@require_http_methods(["GET", "HEAD", "POST"])
def slack_setup(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    if not may_connect(request.user):
        return _page(request, error=_("Only an administrator can connect Slack."), status=403)
    try:
        result = slack_connect_with_token(
            schema_name=connection.schema_name, bot_token=request.POST.get("bot_token", "")
        )
    except WorkspaceValidationError as exc:
        return _page(request, error=str(exc), status=400)
    messages.success(
        request,
        _("Slack workspace %(team)s is connected.")
        % {"team": result.workspace.team_name or result.workspace.team_id},
    )
    return redirect("slack-setup")
