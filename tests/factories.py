"""Factories for the objects tests need. Tenants go through the real service (schema,
migrations, starter agents), because that is what every tenant in production is."""

from __future__ import annotations

import itertools
import uuid

import factory

from apps.integrations.bases.chat import IncomingMessage
from apps.integrations.slack.models import SlackWorkspace
from apps.knowledge.models import Document
from apps.tenants.services import tenant_create

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
