"""People of a company's site: their roles (Django groups, see services.roles_ensure) and the
invitations that bring new people in."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person may do on the company's site. An owner is a superuser (manages the team);
    admins and members are staff in the group of the same name."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


class Invite(models.Model):
    """An invitation e-mailed to one address. Only the SHA-256 of its token is kept: the token
    itself is in the e-mailed link and nowhere else, so a leaked table opens no account."""

    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("invited"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # Re-inviting an address replaces its pending invitation (services.invite_send).
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(accepted_at__isnull=True),
                name="accounts_invite_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


def invite_token_hash(token: str) -> str:
    """What is stored of an invitation's token, and what a presented token is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()
