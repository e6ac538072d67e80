"""The "Add to Slack" pages (public schema): start an install, receive Slack's redirect."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.integrations.slack.install import (
    INSTALL_STATE_TTL,
    SlackInstallError,
    slack_install_cancel,
    slack_install_complete,
    slack_install_invite_tenant,
    slack_install_state_create,
    slack_install_tenant_for_staff,
)
from apps.integrations.slack.oauth import slack_authorize_url, slack_oauth_missing_settings
from apps.tenants.models import Tenant

# Binds an install's OAuth state to the browser that started it (login CSRF defence): the
# redirect is accepted only from the browser holding the same state.
INSTALL_STATE_COOKIE = "jamono_slack_install_state"

# What each refused step means to the person, as (title, explanation).
PROBLEM_TEXTS = {
    "not_configured": (
        _("Slack installation is not configured"),
        _(
            "This Jamono server is missing the setting(s) %(settings)s. "
            "Ask its operator to set them and restart it."
        ),
    ),
    "invite_missing": (
        _("An installation link is needed"),
        _("Open the installation link your Jamono operator sent you."),
    ),
    "invite_invalid": (
        _("This installation link is not valid"),
        _(
            "The link is incomplete, has expired (links last one day), or its company no "
            "longer exists. Ask your Jamono operator for a new link."
        ),
    ),
    "invite_used": (
        _("This installation link was already used"),
        _(
            "An installation link installs one workspace, once. Ask your Jamono operator for a "
            "new link."
        ),
    ),
    "tenant_not_found": (
        _("Unknown company"),
        _("There is no company with this schema name."),
    ),
    "code_missing": (
        _("Slack sent no authorization"),
        _("The answer from Slack is incomplete. Start again from your installation link."),
    ),
    "state_browser_mismatch": (
        _("This installation was started in another browser"),
        _(
            "For your security, finish the installation in the browser where you clicked "
            "“Add to Slack”. Start again from your installation link."
        ),
    ),
    "state_invalid": (
        _("This installation has expired or was already used"),
        _(
            "An installation must be finished within 10 minutes and only once. "
            "Start again from your installation link."
        ),
    ),
    "cancelled": (
        _("Installation cancelled"),
        _(
            "Nothing was installed. You can start again from your installation link "
            "whenever you like."
        ),
    ),
    "slack_refused": (
        _("Slack refused the installation"),
        _("Slack answered “%(detail)s”. Start again from your installation link."),
    ),
    "team_taken": (
        _("This Slack workspace is already connected"),
        _(
            "The Slack workspace %(detail)s is connected to another company in Jamono, so "
            "nothing was changed. Contact your Jamono operator if this is unexpected."
        ),
    ),
    "install_invalid": (
        _("Slack sent an unexpected answer"),
        _("Nothing was installed. Try again later or contact your Jamono operator."),
    ),
}


def slack_redirect_uri(request: HttpRequest) -> str:
    """The redirect URL registered in the Slack app; the same value must go to Slack twice
    (authorize, then the code exchange)."""
    return settings.SLACK_OAUTH_REDIRECT_URL or request.build_absolute_uri(
        reverse("workspaces:slack_oauth_redirect")
    )


def _problem_page(
    request: HttpRequest, reason: str, *, status: int, detail: str = "", missing: str = ""
) -> HttpResponse:
    title, explanation = PROBLEM_TEXTS[reason]
    context = {
        "title": title,
        # Slack's error codes and team ids are short; a forged query string may not be.
        "explanation": explanation % {"detail": detail[:80], "settings": missing},
        "reason": reason,
    }
    return render(request, "workspaces/slack_install_problem.html", context, status=status)


def _not_configured_page(request: HttpRequest) -> HttpResponse | None:
    missing = slack_oauth_missing_settings()
    if not missing:
        return None
    return _problem_page(request, "not_configured", status=503, missing=", ".join(missing))


def _install_tenant(request: HttpRequest) -> tuple[Tenant, str]:
    """The tenant to install for, and the invite it came with ("" for an operator)."""
    invite = request.GET.get("invite")
    if invite:
        return slack_install_invite_tenant(invite=invite), invite
    schema_name = request.GET.get("tenant")
    if not schema_name:
        raise SlackInstallError("invite_missing", status=403)
    return slack_install_tenant_for_staff(user=request.user, schema_name=schema_name), ""


@never_cache
@require_GET
def slack_install(request: HttpRequest) -> HttpResponse:
    """``/slack/install?invite=…`` (or ``?tenant=SCHEMA`` for staff): the "Add to Slack" page."""
    if (not_configured := _not_configured_page(request)) is not None:
        return not_configured
    try:
        tenant, invite = _install_tenant(request)
    except SlackInstallError as exc:
        return _problem_page(request, exc.reason, status=exc.status, detail=exc.detail)
    state = slack_install_state_create(tenant=tenant, invite=invite)
    authorize_url = slack_authorize_url(state=state, redirect_uri=slack_redirect_uri(request))
    response = render(
        request,
        "workspaces/slack_install.html",
        {"tenant": tenant, "authorize_url": authorize_url},
    )
    response.set_cookie(
        INSTALL_STATE_COOKIE,
        state,
        max_age=int(INSTALL_STATE_TTL.total_seconds()),
        secure=request.is_secure(),
        httponly=True,
        # Lax: sent on Slack's top-level redirect back to us, not on cross-site subrequests.
        samesite="Lax",
    )
    return response


@never_cache
@require_GET
def slack_oauth_redirect(request: HttpRequest) -> HttpResponse:
    """``/slack/oauth_redirect?code=…&state=…``: Slack sends the person back here."""
    if (not_configured := _not_configured_page(request)) is not None:
        return not_configured
    state = request.GET.get("state", "")
    browser_state = request.COOKIES.get(INSTALL_STATE_COOKIE)
    slack_error = request.GET.get("error")
    if slack_error:
        slack_install_cancel(state=state, browser_state=browser_state)
        if slack_error == "access_denied":
            response = _problem_page(request, "cancelled", status=200)
        else:
            response = _problem_page(request, "slack_refused", status=400, detail=slack_error)
    else:
        try:
            result = slack_install_complete(
                state=state,
                browser_state=browser_state,
                code=request.GET.get("code", ""),
                redirect_uri=slack_redirect_uri(request),
            )
        except SlackInstallError as exc:
            response = _problem_page(request, exc.reason, status=exc.status, detail=exc.detail)
        else:
            response = render(
                request,
                "workspaces/slack_install_done.html",
                {"workspace": result.workspace, "tenant": result.tenant},
            )
    # The state is single use: whatever happened, this browser's copy is done.
    response.delete_cookie(INSTALL_STATE_COOKIE, samesite="Lax")
    return response
