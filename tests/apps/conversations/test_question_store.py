"""slack_question_store: the row it stores, and a duplicate (a Slack retry) that stores nothing
and leaves the caller's transaction usable."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.conversations import services
from apps.conversations.models import Message
from apps.conversations.services import slack_question_store
from apps.integrations.bases.chat import IncomingMessage


def incoming(event_id="Ev0QSTORE1", ts="1700000000.000100", text="is the deploy stuck?"):
    return IncomingMessage(
        team_id="T0QSTORE", event_id=event_id, channel_id="C0QSTORE", channel_type="channel",
        user_id="U0PERSON1", text=text, ts=ts, thread_ts=None,
    )  # fmt: skip


def test_the_stored_question_has_every_value_the_model_would_give_it(tenant_a):
    with schema_context(tenant_a.schema_name):
        before = timezone.now()
        returned = slack_question_store(incoming(), thread_key="1700000000.000100")
        stored = Message.objects.get()

    assert returned.pk == stored.pk and not returned._state.adding
    assert (stored.role, stored.status) == (Message.Role.USER, Message.Status.RECEIVED)
    assert (stored.team_id, stored.channel_id, stored.channel_type) == (
        "T0QSTORE", "C0QSTORE", "channel"
    )  # fmt: skip
    assert (stored.slack_user_id, stored.slack_ts, stored.slack_event_id) == (
        "U0PERSON1", "1700000000.000100", "Ev0QSTORE1"
    )  # fmt: skip
    assert (stored.thread_key, stored.text) == ("1700000000.000100", "is the deploy stuck?")
    assert stored.conversation_id is None and stored.in_reply_to_id is None
    assert (stored.model, stored.sources, stored.attempts, stored.error) == ("", [], 0, "")
    assert before <= stored.created_at <= timezone.now() + timedelta(seconds=1)
    assert stored.answered_at is None and stored.prompt_tokens is None


def test_a_long_message_is_cut_to_the_question_limit(tenant_a):
    with schema_context(tenant_a.schema_name):
        slack_question_store(incoming(text="x" * 20_000), thread_key="")
        assert len(Message.objects.get().text) == services.MAX_QUESTION_CHARS


def test_a_duplicate_inside_a_transaction_leaves_the_transaction_usable(tenant_a):
    with schema_context(tenant_a.schema_name), transaction.atomic():
        first = slack_question_store(incoming(), thread_key="")
        again = slack_question_store(incoming(), thread_key="")  # same event id
        same_ts = slack_question_store(incoming(event_id="Ev0OTHER"), thread_key="")
        # A failed INSERT would have aborted the transaction: this query would raise.
        assert Message.objects.count() == 1

    assert first is not None and again is None and same_ts is None
