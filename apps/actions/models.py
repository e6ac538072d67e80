from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentAction(models.Model):
    """Something an agent did in the world (a Jira ticket, an invitation, a tool run), kept as
    an audit trail and counted by /<agent>-metrics."""

    class Kind(models.TextChoices):
        JIRA_ISSUE = "jira_issue", _("Jira ticket")
        POSTMORTEM_INVITE = "postmortem_invite", _("post-mortem invitation")
        TOOL_RUN = "tool_run", _("tool run")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="actions")
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    summary = models.CharField(_("summary"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent action")
        verbose_name_plural = _("agent actions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"
