"""The company's "Connect Jira" page, on its own host, for its administrators: the same live
check as ``connect_jira``; the token is write-only (never rendered back)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from apps.core.web import workspace_page
from apps.integrations.bases.ticketing import TicketingError
from apps.integrations.jira.selectors import jira_connection_get
from apps.integrations.jira.services import jira_connect


class JiraConnectForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("Jira site"), max_length=300, assume_scheme="https")
    email = forms.EmailField(label=gettext_lazy("Account e-mail"))
    api_token = forms.CharField(
        label=gettext_lazy("API token"), widget=forms.PasswordInput, max_length=500, strip=True
    )
    project_key = forms.RegexField(
        label=gettext_lazy("Default project key"),
        regex=r"^[A-Z][A-Z0-9_]{0,19}$",
        required=False,
        max_length=20,
    )


# Owners and admins have it (apps.accounts' roles); members read the page.
CONNECT_PERMISSION = "jira_integration.change_jiraconnection"

MISSING_FIELD_WARNING = gettext_lazy(
    "Jira requires the field “%(name)s”: tickets will wait until it is mapped."
)


@workspace_page
@require_http_methods(["GET", "HEAD", "POST"])
def jira_setup(request: HttpRequest) -> HttpResponse:
    connection = jira_connection_get()
    initial = (
        {"url": connection.url, "email": connection.email, "project_key": connection.project_key}
        if connection
        else None
    )
    form = JiraConnectForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = _connect(request, form)
        if status is None:
            return redirect("jira-setup")
    context = {
        "form": form,
        "connection": jira_connection_get(),
        "can_connect": request.user.has_perm(CONNECT_PERMISSION),
    }
    return render(request, "jira/jira_setup.html", context, status=status)


def _connect(request: HttpRequest, form: JiraConnectForm) -> int | None:
    """Connects from a valid form (None), or says why not on the form (the status)."""
    if not request.user.has_perm(CONNECT_PERMISSION):
        form.add_error(None, _("Only an administrator can connect Jira."))
        return 403
    if not form.is_valid():
        return 400
    try:
        result = jira_connect(
            url=form.cleaned_data["url"],
            email=form.cleaned_data["email"],
            api_token=form.cleaned_data["api_token"],
            project_key=form.cleaned_data["project_key"],
        )
    except TicketingError as exc:
        form.add_error(None, str(exc))
        return 400
    messages.success(request, _("Jira is connected."))
    for field in result.missing_fields:
        messages.warning(request, MISSING_FIELD_WARNING % {"name": field.name})
    return None
