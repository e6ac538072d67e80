"""Pages of a company's site about its people: logging in and out, resetting a password by
e-mail, the team (roles, deactivation, invitations) and accepting an invitation."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.accounts.forms import (
    ActiveForm,
    InviteAcceptForm,
    InviteForm,
    LoginForm,
    RoleChangeForm,
)
from apps.accounts.models import Role
from apps.accounts.selectors import invite_for_token, invite_pending_list, role_of, team_member_list
from apps.accounts.services import (
    InviteUnusable,
    TeamError,
    invite_accept,
    invite_send,
    invite_usable_check,
    team_member_active_set,
    team_role_change,
)
from apps.accounts.tokens import password_reset_token_generator
from apps.core.web import workspace_page

logger = logging.getLogger(__name__)

# Who may do what on the team page, as Django permissions: owners (superusers) hold every
# one; admins hold the product apps' ones (accounts' included), never auth's.
MANAGE_TEAM_PERMISSION = "auth.change_user"
INVITE_PERMISSION = "accounts.add_invite"

login_page = auth_views.LoginView.as_view(
    template_name="accounts/login.html", authentication_form=LoginForm
)
logout_page = auth_views.LogoutView.as_view(next_page="login")


class CompanyPasswordResetView(auth_views.PasswordResetView):
    """Django's reset page; the e-mail names the company, and its link the host it was asked
    on (Django's RequestSite, as django.contrib.sites is not installed)."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    token_generator = password_reset_token_generator

    def form_valid(self, form):
        self.extra_email_context = {"company": self.request.tenant.name}
        return super().form_valid(form)


password_reset_page = CompanyPasswordResetView.as_view()
password_reset_done_page = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm_page = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    token_generator=password_reset_token_generator,
)
password_reset_complete_page = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


def _invite_form(request: HttpRequest, data=None) -> InviteForm:
    form = InviteForm(data)
    if role_of(request.user) != Role.OWNER:
        # Admins bring in admins and members; only an owner makes another owner.
        form.fields["role"].choices = [
            (value, label) for value, label in Role.choices if value != Role.OWNER
        ]
    return form


def _team_page(
    request: HttpRequest, *, invite_form: InviteForm | None = None, status: int = 200
) -> HttpResponse:
    can_invite = request.user.has_perm(INVITE_PERMISSION)
    context = {
        "members": team_member_list(),
        "can_manage": request.user.has_perm(MANAGE_TEAM_PERMISSION),
        "can_invite": can_invite,
        "invites": invite_pending_list().select_related("invited_by") if can_invite else [],
        "invite_form": invite_form or _invite_form(request),
        "roles": Role.choices,
    }
    return render(request, "accounts/team.html", context, status=status)


def _refused(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    messages.error(request, message)
    return _team_page(request, status=status)


@workspace_page
@require_http_methods(["GET", "HEAD"])
def team_page(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@workspace_page
@require_http_methods(["POST"])
def team_invite(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(INVITE_PERMISSION):
        return _refused(request, _("Only owners and admins invite people."), status=403)
    form = _invite_form(request, request.POST)
    if not form.is_valid():
        return _team_page(request, invite_form=form, status=400)
    try:
        invite = invite_send(
            invited_by=request.user,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            company_name=request.tenant.name,
            link_base=f"{request.scheme}://{request.get_host()}",
        )
    except TeamError as error:
        form.add_error(None, str(error))
        return _team_page(request, invite_form=form, status=400)
    except (smtplib.SMTPException, OSError):
        logger.exception("The invitation e-mail could not be sent")
        form.add_error(None, _("The e-mail could not be sent; nothing was saved. Try again."))
        return _team_page(request, invite_form=form, status=503)
    messages.success(request, _("%(email)s is invited.") % {"email": invite.email})
    return redirect("team")


@workspace_page
@require_http_methods(["POST"])
def team_role(request: HttpRequest, user_id: int) -> HttpResponse:
    if not request.user.has_perm(MANAGE_TEAM_PERMISSION):
        return _refused(request, _("Only an owner changes the team."), status=403)
    person = get_object_or_404(get_user_model(), pk=user_id)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Choose one of the roles."), status=400)
    try:
        team_role_change(actor=request.user, user=person, role=form.cleaned_data["role"])
    except TeamError as error:
        return _refused(request, str(error), status=409)
    messages.success(
        request,
        _("%(person)s is now %(role)s.")
        % {"person": person.get_username(), "role": Role(form.cleaned_data["role"]).label},
    )
    return redirect("team")


@workspace_page
@require_http_methods(["POST"])
def team_active(request: HttpRequest, user_id: int) -> HttpResponse:
    if not request.user.has_perm(MANAGE_TEAM_PERMISSION):
        return _refused(request, _("Only an owner changes the team."), status=403)
    person = get_object_or_404(get_user_model(), pk=user_id)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Say whether the person is active."), status=400)
    active = form.cleaned_data["active"]
    try:
        team_member_active_set(actor=request.user, user=person, active=active)
    except TeamError as error:
        return _refused(request, str(error), status=409)
    done = _("%(person)s can log in again.") if active else _("%(person)s is deactivated.")
    messages.success(request, done % {"person": person.get_username()})
    return redirect("team")


# The page said for each reason an invitation opens nothing, with its status code.
INVITE_REFUSALS = {
    InviteUnusable.UNKNOWN: 404,
    InviteUnusable.USED: 410,
    InviteUnusable.EXPIRED: 410,
    InviteUnusable.TAKEN: 409,
}


def _invite_refused(request: HttpRequest, reason: str) -> HttpResponse:
    context = {"reason": reason}
    return render(request, "accounts/invite_unusable.html", context, status=INVITE_REFUSALS[reason])


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def invite_accept_page(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone holding the link: the token is the credential."""
    try:
        invite = invite_usable_check(invite_for_token(token))
    except InviteUnusable as refused:
        return _invite_refused(request, refused.reason)
    form = InviteAcceptForm(request.POST or None, email=invite.email)
    context = {"form": form, "invite": invite, "company": request.tenant.name}
    if request.method != "POST":
        return render(request, "accounts/invite_accept.html", context)
    if not form.is_valid():
        return render(request, "accounts/invite_accept.html", context, status=400)
    try:
        user = invite_accept(
            token=token, name=form.cleaned_data["name"], password=form.cleaned_data["password1"]
        )
    except InviteUnusable as refused:
        return _invite_refused(request, refused.reason)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(settings.LOGIN_REDIRECT_URL)
