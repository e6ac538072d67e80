from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField


class SlackWorkspace(models.Model):
    """A Slack workspace installed for one tenant.

    Lives in the public schema because an incoming Slack request is matched to its tenant by
    ``team_id`` before any tenant schema is selected; ``team_id`` is unique across tenants.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="slack_workspaces"
    )
    team_id = models.CharField(_("Slack team ID"), max_length=32, unique=True)
    team_name = models.CharField(_("team name"), max_length=200, blank=True)
    bot_user_id = models.CharField(_("bot user ID"), max_length=32)
    bot_token = EncryptedTextField(_("bot token"))
    app_id = models.CharField(_("Slack app ID"), max_length=32, blank=True)
    scopes = models.TextField(_("granted scopes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    installed_at = models.DateTimeField(_("installed at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Slack workspace")
        verbose_name_plural = _("Slack workspaces")
        ordering = ["team_id"]

    def __str__(self) -> str:
        return f"{self.team_name or self.team_id} → {self.tenant_id}"

    def __repr__(self) -> str:
        # Never the token: reprs end up in logs and tracebacks.
        return f"<SlackWorkspace team_id={self.team_id} tenant_id={self.tenant_id}>"


class SlackInstallState(models.Model):
    """One "Add to Slack" attempt for one tenant: the OAuth ``state`` Slack sends back.

    Only the SHA-256 of the random state is stored, so a database read cannot replay an
    install in progress. A state is used once (``consumed_at``) and only until ``expires_at``.
    """

    state_hash = models.CharField(_("state hash"), max_length=64, unique=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="slack_install_states"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    consumed_at = models.DateTimeField(_("consumed at"), null=True, blank=True)
    # The invite this install started from (its SHA-256; blank for an operator's install): a
    # successful install uses the invite up.
    invite_hash = models.CharField(_("invite hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("Slack install state")
        verbose_name_plural = _("Slack install states")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Slack install for {self.tenant_id} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class SlackInstallInviteUse(models.Model):
    """An install invite used up by a successful install: an invite installs one workspace,
    once. Only the SHA-256 of the invite is kept."""

    invite_hash = models.CharField(_("invite hash"), max_length=64, unique=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="slack_install_invite_uses"
    )
    team_id = models.CharField(_("Slack team ID"), max_length=32)
    used_at = models.DateTimeField(_("used at"), default=timezone.now)

    class Meta:
        verbose_name = _("used Slack install invite")
        verbose_name_plural = _("used Slack install invites")
        ordering = ["-used_at"]

    def __str__(self) -> str:
        return f"Invite used by {self.team_id} for {self.tenant_id} ({self.used_at:%Y-%m-%d})"
