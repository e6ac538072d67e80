from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField


class JiraConnection(models.Model):
    """The tenant's Jira: where it is, the account and API token it is reached with, and the
    defaults of a new issue (project, issue type, extra field values).

    One per tenant schema (``singleton``); ``manage.py connect_jira`` writes it after a live
    check. ``field_values`` are sent as they are with every create (``{field_id: value}`` in
    the shape Jira wants, e.g. ``{"customfield_10042": {"value": "Payments"}}``);
    ``field_names`` names fields in plain words for people (``{field_id: "Team"}``).
    """

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    url = models.URLField(_("Jira URL"), max_length=300)
    email = models.EmailField(_("account e-mail"))
    api_token = EncryptedTextField(_("API token"))
    project_key = models.CharField(_("default project"), max_length=32, blank=True)
    issue_type = models.CharField(_("default issue type"), max_length=64, default="Task")
    field_values = models.JSONField(_("extra field values"), default=dict, blank=True)
    field_names = models.JSONField(_("field names"), default=dict, blank=True)
    account_name = models.CharField(_("account name"), max_length=200, blank=True)
    server_title = models.CharField(_("server title"), max_length=200, blank=True)
    verified_at = models.DateTimeField(_("checked live at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Jira connection")
        verbose_name_plural = _("Jira connection")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(singleton=True), name="jira_connection_singleton"
            ),
        ]

    def __str__(self) -> str:
        project = f" ({self.project_key})" if self.project_key else ""
        return f"{self.server_title or self.url}{project}"

    def __repr__(self) -> str:
        # Never the token: reprs end up in logs and tracebacks.
        return f"<JiraConnection url={self.url} email={self.email} project={self.project_key}>"
