"""Factories for the objects tests need. Tenants go through the real service (schema,
migrations, starter agents), because that is what every tenant in production is."""

from __future__ import annotations

import itertools
import uuid

import factory

from apps.agents.models import Agent
from apps.conversations.models import AnswerFeedback, Conversation, Message
from apps.integrations.bases.chat import IncomingMessage
from apps.integrations.slack.models import SlackWorkspace
from apps.knowledge.models import Document
from apps.tenants.services import tenant_create
from apps.tools.models import ToolCallRecord

_sequence = itertools.count()


def unique_schema_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def tenant_make(schema_name: str | None = None, name: str | None = None):
    schema_name = schema_name or unique_schema_name()
    return tenant_create(schema_name=schema_name, name=name or f"Company {schema_name}").tenant


def slack_token() -> str:
    """A bot token of Slack's shape (fake, unique per call)."""
    n = next(_sequence)
    return f"xoxb-{100000 + n}-{200000 + n}-{uuid.uuid4().hex[:24]}"


class SlackWorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlackWorkspace

    team_id = factory.Sequence(lambda n: f"T{n:08d}")
    team_name = factory.Sequence(lambda n: f"Workspace {n}")
    bot_user_id = factory.Sequence(lambda n: f"U{n:08d}")
    bot_token = factory.LazyFunction(slack_token)


class DocumentFactory(factory.django.DjangoModelFactory):
    """A knowledge document row (use inside the tenant's schema); chunks are the test's own."""

    class Meta:
        model = Document

    key = factory.Sequence(lambda n: f"docs/document-{n}.md")
    title = factory.Sequence(lambda n: f"Document {n}")
    kind = "markdown"
    source = Document.Source.UPLOAD
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 1
    status = Document.Status.READY


def starter_agent(slug: str = "nox") -> Agent:
    return Agent.objects.get(slug=slug)


class ConversationFactory(factory.django.DjangoModelFactory):
    """A channel thread with an agent (use inside the tenant's schema). A DM: channel_type
    "im"; the browser chat: team_id "web", started_by "web-<user pk>"."""

    class Meta:
        model = Conversation

    agent = factory.LazyFunction(starter_agent)
    team_id = "T0TEAM001"
    channel_id = "C0CHAN001"
    channel_type = "channel"
    thread_ts = factory.Sequence(lambda n: f"1700000000.{n:06d}")
    started_by = "U0PERSON1"


class MessageFactory(factory.django.DjangoModelFactory):
    """A person's question (role USER) in ``conversation``; pass role/status for an answer."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = Message.Role.USER
    status = Message.Status.ANSWERED
    slack_user_id = factory.LazyAttribute(lambda m: m.conversation.started_by)
    team_id = factory.LazyAttribute(lambda m: m.conversation.team_id)
    channel_id = factory.LazyAttribute(lambda m: m.conversation.channel_id)
    channel_type = factory.LazyAttribute(lambda m: m.conversation.channel_type)
    thread_key = factory.LazyAttribute(lambda m: m.conversation.thread_ts)
    slack_ts = factory.Sequence(lambda n: f"1700000001.{n:06d}")
    text = "how do I roll back?"


class AnswerFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnswerFeedback

    answer = factory.SubFactory(MessageFactory, role=Message.Role.ASSISTANT)
    slack_user_id = factory.Sequence(lambda n: f"U{n:08d}")
    value = AnswerFeedback.Value.UP


class ToolCallRecordFactory(factory.django.DjangoModelFactory):
    """A done call in the audit (use inside the tenant's schema)."""

    class Meta:
        model = ToolCallRecord

    agent = factory.LazyFunction(starter_agent)
    requested_by = "U0PERSON1"
    tool = "http_probe"
    risk = "read"
    arguments = factory.LazyFunction(lambda: {"url": "https://status.example.com"})
    summary = "200 OK in 120 ms"
    status = ToolCallRecord.Status.DONE
    duration_ms = 120


def incoming_message(**overrides) -> IncomingMessage:
    """A person's message to an agent in a channel thread; any field can be overridden."""
    ts = overrides.get("ts", "1700000000.000100")
    values = {
        "team_id": "T0TEAM001",
        "event_id": f"Ev{overrides.get('channel_id', 'C0CHAN001')}{ts}",
        "channel_id": "C0CHAN001",
        "channel_type": "channel",
        "user_id": "U0PERSON1",
        "text": "how do I roll back?",
        "ts": ts,
        "thread_ts": None,
        "mentions_bot": True,
    }
    return IncomingMessage(**{**values, **overrides})


def tenant_browser(
    client, tenant, *, superuser: bool = True, permissions: tuple[str, ...] = (), set_host=True
):
    """``client`` logged in on ``tenant``'s own site as a staff user (a superuser, or one with
    these permission codenames), its host set unless ``set_host`` is False. Users and sessions
    live in the tenant's schema, so the login happens there."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django_tenants.utils import schema_context

    with schema_context(tenant.schema_name):
        model = get_user_model()
        create = model.objects.create_superuser if superuser else model.objects.create_user
        user = create("ana", "ana@acme.test", "pw-1234567", is_staff=True)
        if permissions:
            user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
        client.force_login(user)
    if set_host:
        client.defaults["HTTP_HOST"] = tenant.get_primary_domain().domain
    return client
