"""What agents did and may do: per-agent tool switches, the audit of every call, the requests a
tracker refused (kept and retried), post-mortem meetings, and where probes may go."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.tools.checks.address_policy import pattern_parse


class Risk(models.TextChoices):
    READ = "read", _("read")
    WRITE = "write", _("write")
    DANGEROUS = "dangerous", _("dangerous")


class AgentTool(models.Model):
    """Whether this tenant lets an agent use a tool. The tool must also allow the agent
    (its declaration) and have its integration connected to be offered to the model."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="tools")
    tool = models.CharField(_("tool"), max_length=64)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("agent tool")
        verbose_name_plural = _("agent tools")
        ordering = ["agent", "tool"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "tool"], name="agent_tool_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} · {self.tool}"


class ToolCallRecord(models.Model):
    """One tool call an agent made (or tried): the audit trail, counted by /<agent>-metrics.

    Arguments are stored with secrets masked. ``ordinal``: the n-th call of this tool for this
    question; with the question it names the call across retries of the answer, so a write
    runs once however often the answer is retried."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        REFUSED = "refused", _("refused")
        WAITING = "waiting", _("waiting for a retry")

    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="tool_calls")
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL
    )
    question = models.ForeignKey(
        "conversations.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tool_calls",
    )
    requested_by = models.CharField(_("requested by"), max_length=64, blank=True)
    tool = models.CharField(_("tool"), max_length=64, db_index=True)
    # Blank for a call to a tool that does not exist (refused, kept in the audit all the same).
    risk = models.CharField(_("risk"), max_length=16, choices=Risk.choices, blank=True)
    ordinal = models.PositiveSmallIntegerField(_("ordinal"), default=1)
    arguments = models.JSONField(_("arguments"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("tool call")
        verbose_name_plural = _("tool calls (audit)")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "tool", "ordinal"],
                condition=models.Q(question__isnull=False),
                name="tool_call_once_per_question",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tool} ({self.get_status_display()}): {self.summary}"


class Incident(models.Model):
    """A ticket the tracker refused or could not take, kept so nothing is lost: retried (by
    a task, by an admin) until it has its key."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting for the tracker")
        TICKETED = "ticketed", _("ticket created")

    tool_call = models.OneToOneField(
        ToolCallRecord, on_delete=models.PROTECT, related_name="incident"
    )
    summary = models.CharField(_("summary"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    project = models.CharField(_("project"), max_length=64, blank=True)
    issue_type = models.CharField(_("issue type"), max_length=64, blank=True)
    priority = models.CharField(_("priority"), max_length=64, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    missing_fields = models.JSONField(_("missing fields"), default=list, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    ticket_key = models.CharField(_("ticket key"), max_length=64, blank=True)
    ticket_url = models.URLField(_("ticket URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.ticket_key or self.summary


class PostmortemMeeting(models.Model):
    """The post-mortem of one conversation: rescheduling it updates the same calendar event
    (same UID, higher SEQUENCE)."""

    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="postmortem"
    )
    uid = models.CharField(_("UID"), max_length=200, unique=True)
    sequence = models.PositiveIntegerField(_("sequence"), default=0)
    title = models.CharField(_("title"), max_length=200)
    start = models.DateTimeField(_("start"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    attendees = models.JSONField(_("attendees"), default=list, blank=True)
    jira_key = models.CharField(_("Jira key"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("post-mortem meeting")
        verbose_name_plural = _("post-mortem meetings")

    def __str__(self) -> str:
        return self.title


class ProbeAllowedHost(models.Model):
    """A host the sandboxed checks may reach: ``status.example.com``, ``*.example.com``,
    ``10.0.0.5``, ``10.0.0.0/24``, optionally with ``:port``. Private and loopback addresses
    are refused unless listed here."""

    pattern = models.CharField(_("host pattern"), max_length=255, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("host checks may reach")
        verbose_name_plural = _("hosts checks may reach")
        ordering = ["pattern"]

    def __str__(self) -> str:
        return self.pattern

    def clean(self) -> None:
        self.pattern = self.pattern.strip()
        try:
            pattern_parse(self.pattern)
        except ValueError as exc:
            raise ValidationError({"pattern": str(exc)}) from exc
