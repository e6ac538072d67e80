"""Agent configuration for the current tenant schema."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from django.db import transaction

from apps.agents.definitions import agent_definitions_load
from apps.agents.models import Agent


@transaction.atomic
def agents_sync_definitions(directory: Path | None = None) -> list[str]:
    """Create the agents of the shipped definitions that this tenant does not have yet.

    Runs in the current schema (call it inside ``schema_context``). Idempotent; existing
    agents keep the tenant's own tuning. Returns the slugs created.
    """
    created = []
    for definition in agent_definitions_load(directory):
        _, was_created = Agent.objects.get_or_create(
            slug=definition.slug, defaults=asdict(definition) | {"enabled": True}
        )
        if was_created:
            created.append(definition.slug)
    return created
