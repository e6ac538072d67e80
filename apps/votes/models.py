"""Approvals: who must agree before a tool call runs (policies), the proposals put to a vote,
each voter's ballot, and the one record of a vote's execution.

A vote snapshots the rule it was opened under (``rule``): ballots are tallied against the
rule people saw in the message. The worker that executes a passed vote re-reads the current
policy all the same, and a policy made stricter meanwhile keeps the vote open.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedTextField
from apps.tools.models import Risk


class Rule(models.TextChoices):
    NONE = "none", _("no vote: runs at once")
    SINGLE = "single", _("one approval")
    MAJORITY = "majority", _("simple majority")
    QUALIFIED_MAJORITY = "qualified_majority", _("two-thirds majority")
    CONSENSUS = "consensus", _("consensus")
    WEIGHTED = "weighted", _("weighted majority")


class ApprovalPolicy(models.Model):
    """Which calls need approval, by tool name or by risk level (a tool's own row wins), and
    how they are decided. No voters named: the people of the thread the call came from vote
    (see ``apps.votes.selectors.policy_for``)."""

    tool = models.CharField(_("tool"), max_length=64, blank=True)
    risk = models.CharField(_("risk"), max_length=16, choices=Risk.choices, blank=True)
    rule = models.CharField(_("rule"), max_length=24, choices=Rule.choices)
    # Chat user ids (Slack: U…/W…), and/or a user group (Slack: S…) whose members vote, read
    # when a vote opens. Neither: the thread's participants.
    voters = models.JSONField(_("voters"), default=list, blank=True)
    user_group = models.CharField(_("user group"), max_length=32, blank=True)
    # {user id: weight}; a voter not listed weighs 1 (the weighted rule only).
    weights = models.JSONField(_("weights"), default=dict, blank=True)
    # Ballots that must be cast before a vote may pass (0: the rule alone decides).
    quorum = models.PositiveSmallIntegerField(_("quorum"), default=0)
    expires_in = models.DurationField(_("expires in"))
    # ATLAS's and CIRRUS's advisory ballots count as votes (else they are only shown).
    counts_advisory = models.BooleanField(_("advisory votes count"), default=False)
    # ATLAS and CIRRUS are asked for their advice (a model call each) when a vote opens.
    asks_advisors = models.BooleanField(_("ask ATLAS and CIRRUS for advice"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        ordering = ["tool", "risk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tool"], condition=~models.Q(tool=""), name="approval_policy_tool_unique"
            ),
            models.UniqueConstraint(
                fields=["risk"], condition=~models.Q(risk=""), name="approval_policy_risk_unique"
            ),
            models.CheckConstraint(
                condition=(models.Q(tool="") & ~models.Q(risk=""))
                | (~models.Q(tool="") & models.Q(risk="")),
                name="approval_policy_tool_or_risk",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tool or self.risk}: {self.get_rule_display()}"

    def clean(self) -> None:
        from apps.votes.rules import policy_problem

        problem = policy_problem(
            rule=self.rule,
            voters=self.voters,
            weights=self.weights,
            quorum=self.quorum,
            user_group=self.user_group,
        )
        if problem:
            raise ValidationError(problem)


class Vote(models.Model):
    """A tool call put to a vote. The arguments are kept twice: masked (shown, audited) and
    as given (encrypted, read only by the worker that runs the call)."""

    class Status(models.TextChoices):
        # Not "open" alone: that word is also a link's label ("open" → "ouvrir" in French).
        OPEN = "open", _("open for votes")
        PASSED = "passed", _("passed")
        REJECTED = "rejected", _("rejected")
        EXPIRED = "expired", _("expired (rejected)")
        EXECUTED = "executed", _("executed")

    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL
    )
    question = models.ForeignKey(
        "conversations.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="votes",
    )
    ordinal = models.PositiveSmallIntegerField(_("ordinal"), default=1)
    tool = models.CharField(_("tool"), max_length=64)
    risk = models.CharField(_("risk"), max_length=16, choices=Risk.choices)
    arguments = models.JSONField(_("arguments (masked)"), default=dict, blank=True)
    arguments_raw = EncryptedTextField(_("arguments (encrypted)"), blank=True)
    requested_by = models.CharField(_("requested by"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # The rule as opened: {"rule", "voters", "weights", "quorum", "counts_advisory"}.
    rule = models.JSONField(_("rule"), default=dict)
    deadline = models.DateTimeField(_("deadline"), db_index=True)
    # Where the vote lives in the chat, and what the tool needs to run later.
    team_id = models.CharField(_("team"), max_length=32, blank=True)
    channel_id = models.CharField(_("channel"), max_length=32, blank=True)
    thread_ts = models.CharField(_("thread"), max_length=32, blank=True)
    question_ts = models.CharField(_("question message"), max_length=32, blank=True)
    message_ts = models.CharField(_("vote message"), max_length=32, blank=True, db_index=True)
    participants = models.JSONField(_("thread participants"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["-created_at"]
        constraints = [
            # A retried answer asks again for the same call: it finds this vote, not a new one.
            models.UniqueConstraint(
                fields=["question", "tool", "ordinal"],
                condition=models.Q(question__isnull=False),
                name="vote_once_per_call",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.tool} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Ballot(models.Model):
    """One voter's ballot on one vote: a person's, or an agent's advisory one (with its
    reason). Changeable until the vote closes; every change is kept in ``history``."""

    class Choice(models.TextChoices):
        APPROVE = "approve", _("approve")
        REJECT = "reject", _("reject")

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="ballots")
    voter = models.CharField(_("voter"), max_length=64)  # a chat user id, or an agent's slug
    choice = models.CharField(_("choice"), max_length=8, choices=Choice.choices)
    advisory = models.BooleanField(_("advisory"), default=False)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    history = models.JSONField(_("history"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["vote", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "voter"], name="ballot_one_per_voter"),
        ]

    def __str__(self) -> str:
        return f"{self.voter}: {self.get_choice_display()}"


class VoteExecution(models.Model):
    """The once-only record of running a passed vote: created before the tool runs (its
    unique vote is the claim), finished once with the check and the result, never changed
    after that."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        REFUSED = "refused", _("refused")
        FAILED = "failed", _("failed")

    vote = models.OneToOneField(Vote, on_delete=models.PROTECT, related_name="execution")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    check_summary = models.TextField(_("check before running"), blank=True)
    tool_call = models.ForeignKey(
        "tools.ToolCallRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("vote execution")
        verbose_name_plural = _("vote executions (audit)")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.vote_id}: {self.get_status_display()}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            stored = VoteExecution.objects.filter(pk=self.pk).values_list("status", flat=True)
            if stored and stored[0] != self.Status.RUNNING:
                raise ValidationError("a finished vote execution is never changed")
        super().save(*args, **kwargs)
