"""Reads about the people of a company's site: roles, the team, invitations. Every query runs
in the current tenant's schema, so it sees that company's people only."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Invite, Role, invite_token_hash

# The group each non-owner role is (owners are superusers, in no group).
ROLE_GROUPS = {Role.ADMIN: "admin", Role.MEMBER: "member"}
# Tenant apps whose permissions are the framework's (users, sessions, login attempts), not the
# product's: no role but the owner's gets them.
FRAMEWORK_APP_LABELS = frozenset({"auth", "admin", "sessions", "contenttypes", "axes", "messages"})


def product_app_labels() -> list[str]:
    """Labels of the product's tenant apps, read from the settings: an app added to
    TENANT_APPS later is in the roles without a change here."""
    return sorted(
        config.label
        for config in apps.get_app_configs()
        if config.name in settings.TENANT_APPS and config.label not in FRAMEWORK_APP_LABELS
    )


def role_permissions(role: Role) -> QuerySet[Permission]:
    """The permissions the admin or member group holds: admins every permission of the
    product apps, members only their ``view_*`` ones. Owners, superusers, need none."""
    permissions = Permission.objects.filter(content_type__app_label__in=product_app_labels())
    if role == Role.MEMBER:
        permissions = permissions.filter(codename__startswith="view_")
    elif role != Role.ADMIN:
        return Permission.objects.none()
    return permissions


def role_of(user) -> Role | None:
    """The person's role: owner for a superuser (the sign-up's first user and
    ``create_tenant_superuser``'s), else the role of their group; None for anyone else."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.OWNER
    # groups.all(), not a query of its own: served from the prefetch of team_member_list.
    names = {group.name for group in user.groups.all()}
    for role, group in ROLE_GROUPS.items():
        if group in names:
            return role
    return None


@dataclass(frozen=True)
class TeamMember:
    user: object
    role: Role | None


def team_member_list() -> list[TeamMember]:
    """This company's people, active ones first, each with their role."""
    users = get_user_model().objects.prefetch_related("groups").order_by("-is_active", "username")
    return [TeamMember(user=user, role=role_of(user)) for user in users]


def owners_active_count() -> int:
    return get_user_model().objects.filter(is_superuser=True, is_active=True).count()


def email_has_account(email: str) -> bool:
    """Someone of this company already signs in with this address (as e-mail or user name)."""
    email = email.strip()
    return (
        get_user_model().objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists()
    )


def invite_pending_list() -> QuerySet[Invite]:
    return Invite.objects.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


def invite_for_token(token: str) -> Invite | None:
    """The invitation this token opens, in the current company only (unknown: None)."""
    return Invite.objects.filter(token_hash=invite_token_hash(token)).first()
