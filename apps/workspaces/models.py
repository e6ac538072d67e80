from django.db import models
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
