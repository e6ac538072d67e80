"""Writes about the people of a company's site: roles, team changes, invitations. Each runs in
the current tenant's schema; the rules (one owner at least, who may do what) are kept here."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Invite, Role, invite_token_hash
from apps.accounts.selectors import (
    ROLE_GROUPS,
    email_has_account,
    invite_for_token,
    role_of,
    role_permissions,
)

INVITE_LIFETIME = timedelta(days=7)


class TeamError(ValueError):
    """A team change that a rule refuses; the message says why, in the person's language."""


class InviteUnusable(Exception):
    """An invitation link that opens nothing; ``reason`` says why (for the page shown)."""

    UNKNOWN, USED, EXPIRED, TAKEN = "unknown", "used", "expired", "taken"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@transaction.atomic
def roles_ensure() -> None:
    """Idempotent: the admin and member groups exist, holding exactly their role's permissions
    among those that exist now in this schema (permissions appear only with migrations, hence
    a call after each migrate and before each role given)."""
    for role, group_name in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        group.permissions.set(role_permissions(role))


@transaction.atomic
def role_assign(user, role: Role) -> None:
    """Gives ``user`` exactly ``role``: an owner is a superuser in no group; an admin or a
    member is staff in that role's group, with no permission of their own besides."""
    roles_ensure()
    role = Role(role)
    user.is_staff = True
    user.is_superuser = role == Role.OWNER
    user.save(update_fields=["is_staff", "is_superuser"])
    groups = [] if role == Role.OWNER else [Group.objects.get(name=ROLE_GROUPS[role])]
    user.groups.set(groups)
    user.user_permissions.clear()


def _owners_locked() -> list:
    """The active owners, locked until the end of the transaction: two owners demoting each
    other at once cannot both see the other one still there."""
    owners = get_user_model().objects.select_for_update().filter(is_superuser=True)
    return list(owners.filter(is_active=True))


def _owner_leaving_check(user) -> None:
    # Read from the locked rows, not from ``user`` (loaded before the lock was taken).
    owners = {owner.pk for owner in _owners_locked()}
    if user.pk in owners and len(owners) <= 1:
        raise TeamError(_("The company needs an owner: make someone else an owner first."))


def _owner_check(actor) -> None:
    if role_of(actor) != Role.OWNER:
        raise TeamError(_("Only an owner changes the team."))


@transaction.atomic
def team_role_change(*, actor, user, role: Role) -> None:
    """An owner gives ``user`` another role; never demotes the last active owner."""
    _owner_check(actor)
    role = Role(role)
    if role != Role.OWNER:
        _owner_leaving_check(user)
    role_assign(user, role)


@transaction.atomic
def team_member_active_set(*, actor, user, active: bool) -> None:
    """An owner deactivates someone (they can no longer log in; their past stays) or lets them
    back in. Nobody deactivates themselves, and the last active owner stays."""
    _owner_check(actor)
    if not active:
        if user.pk == actor.pk:
            raise TeamError(_("You cannot deactivate yourself."))
        _owner_leaving_check(user)
    user.is_active = active
    user.save(update_fields=["is_active"])


def _invite_email_send(*, invite: Invite, link: str, company_name: str) -> None:
    person = invite.invited_by.get_full_name() or invite.invited_by.get_username()
    values = {
        "person": person,
        "company": company_name,
        "role": Role(invite.role).label,
        "link": link,
        "days": INVITE_LIFETIME.days,
    }
    subject = _("%(person)s invites you to %(company)s on Jamono") % values
    body = (
        _(
            "Hello,\n\n%(person)s invites you to join %(company)s on Jamono as %(role)s.\n\n"
            "Choose your name and password here (the link works once, for %(days)s days):\n"
            "%(link)s\n\nIf you did not expect this invitation, ignore this e-mail."
        )
        % values
    )
    send_mail(subject, body, None, [invite.email])


@transaction.atomic
def invite_send(*, invited_by, email: str, role: Role, company_name: str, link_base: str):
    """Invites ``email`` with ``role`` and e-mails the link (``link_base``: the scheme and host
    the company's site was reached on). Replaces the address's pending invitation. The e-mail
    is sent inside the transaction: if it fails, no invitation is left that nobody received.
    Admins invite admins and members; only owners invite owners."""
    role = Role(role)
    email = email.strip().lower()
    if role == Role.OWNER and role_of(invited_by) != Role.OWNER:
        raise TeamError(_("Only an owner invites an owner."))
    if email_has_account(email):
        raise TeamError(_("%(email)s already has an account here.") % {"email": email})
    Invite.objects.filter(email=email, accepted_at__isnull=True).delete()
    token, now = secrets.token_urlsafe(32), timezone.now()
    invite = Invite.objects.create(
        email=email,
        role=role,
        invited_by=invited_by,
        token_hash=invite_token_hash(token),
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    link = link_base.rstrip("/") + reverse("invite-accept", kwargs={"token": token})
    _invite_email_send(invite=invite, link=link, company_name=company_name)
    return invite


def invite_usable_check(invite: Invite | None) -> Invite:
    """The invitation if it can still be accepted, else ``InviteUnusable`` saying why."""
    if invite is None:
        raise InviteUnusable(InviteUnusable.UNKNOWN)
    if invite.accepted_at is not None:
        raise InviteUnusable(InviteUnusable.USED)
    if invite.is_expired:
        raise InviteUnusable(InviteUnusable.EXPIRED)
    if email_has_account(invite.email):
        raise InviteUnusable(InviteUnusable.TAKEN)
    return invite


@transaction.atomic
def invite_accept(*, token: str, name: str, password: str):
    """Creates the invited person (user name and e-mail: the invited address) with the
    invited role, and uses the invitation up. Works once: the invitation is locked while it
    is accepted, so two submissions at once make one account."""
    found = invite_for_token(token)
    if found is not None:
        found = Invite.objects.select_for_update().get(pk=found.pk)
    invite = invite_usable_check(found)
    user = get_user_model().objects.create_user(
        username=invite.email, email=invite.email, password=password, first_name=name.strip()
    )
    role_assign(user, invite.role)
    invite.accepted_at = timezone.now()
    invite.save(update_fields=["accepted_at"])
    return user
