from django.db import models
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    """One Slack thread (or one DM channel) in which a person talks with one agent."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    team_id = models.CharField(_("Slack team ID"), max_length=32)
    channel_id = models.CharField(_("channel ID"), max_length=32)
    channel_type = models.CharField(_("channel type"), max_length=16)
    # Root ts of the Slack thread; empty for the top level of a DM.
    thread_ts = models.CharField(_("thread ts"), max_length=32, blank=True)
    started_by = models.CharField(_("started by (Slack user)"), max_length=32)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_id", "thread_ts"], name="conversation_unique_thread"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.thread_ts or 'dm'}"


class Message(models.Model):
    """A question from a person or an answer from an agent, with what it cost to produce."""

    class Role(models.TextChoices):
        USER = "user", _("person")
        ASSISTANT = "assistant", _("agent")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")  # a question, waiting for its answer
        ANSWERING = "answering", _("answering")
        ANSWERED = "answered", _("answered")
        LLM_UNAVAILABLE = "llm_unavailable", _("waiting for the language model")
        FAILED = "failed", _("failed")
        # Tried MAX_ANSWER_ATTEMPTS times; the thread says so, an administrator can retry it.
        GAVE_UP = "gave_up", _("given up")

    # Empty while a question waits for its worker: the web request only stores it, the worker
    # picks its agent and conversation (keeps the Slack acknowledgement to one INSERT).
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    slack_user_id = models.CharField(_("Slack user"), max_length=32, blank=True)
    team_id = models.CharField(_("Slack team ID"), max_length=32, blank=True)
    channel_id = models.CharField(_("channel ID"), max_length=32)
    channel_type = models.CharField(_("channel type"), max_length=16, blank=True)
    # Root ts of the thread the answer goes to ("" for the top level of a DM).
    thread_key = models.CharField(_("thread"), max_length=32, blank=True)
    slack_ts = models.CharField(_("Slack ts"), max_length=32, blank=True)
    # Slack retries an event with the same event_id: the unique constraint is what makes a
    # retry (even one landing on another web process) unable to produce a second answer.
    slack_event_id = models.CharField(  # noqa: DJ001 - NULL: no event id, outside the constraint
        _("Slack event ID"), max_length=64, null=True, blank=True
    )
    text = models.TextField(_("text"))
    in_reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="answer"
    )
    model = models.CharField(_("model"), max_length=120, blank=True)
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(_("completion tokens"), null=True, blank=True)
    llm_duration_ms = models.PositiveIntegerField(_("LLM time (ms)"), null=True, blank=True)
    # From the question's arrival to the final answer in Slack.
    answer_latency_ms = models.PositiveIntegerField(_("answer time (ms)"), null=True, blank=True)
    # For answers: the knowledge chunks the prompt held, as numbered, e.g.
    # [{"n": 1, "chunk_id": 7, "title": "Deploy runbook", "heading": "Deploy runbook › Rollback"}]
    sources = models.JSONField(_("sources"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("answer attempts"), default=0)
    # Who is answering a question, since when: a claim older than ANSWER_CLAIM_TIMEOUT_S
    # belonged to a worker that died, and the sweep takes it over; the same Celery task
    # delivered again (its worker died, acks_late) takes it over at once.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_task_id = models.CharField(_("claimed by task"), max_length=64, blank=True)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slack_event_id"],
                condition=models.Q(slack_event_id__isnull=False),
                name="message_unique_slack_event",
            ),
            # The same Slack message can arrive as two events (app_mention and message).
            models.UniqueConstraint(
                fields=["channel_id", "slack_ts"],
                condition=models.Q(role="user"),
                name="message_unique_user_message",
            ),
        ]
        indexes = [models.Index(fields=["status", "role"], name="message_status_role")]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


class AnswerFeedback(models.Model):
    """A person's 👍 or 👎 on an agent's answer (one vote per person, the latest counts)."""

    class Value(models.TextChoices):
        UP = "up", "👍"
        DOWN = "down", "👎"

    answer = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    slack_user_id = models.CharField(_("Slack user"), max_length=32)
    value = models.CharField(_("feedback"), max_length=8, choices=Value.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("answer feedback")
        verbose_name_plural = _("answer feedback")
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "slack_user_id"], name="feedback_one_vote_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.answer_id}: {self.value}"
