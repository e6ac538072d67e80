from __future__ import annotations

from django.db.models import QuerySet

from apps.agents.models import Agent


def agent_list(*, enabled_only: bool = False) -> QuerySet[Agent]:
    agents = Agent.objects.order_by("slug")
    return agents.filter(enabled=True) if enabled_only else agents


def agent_roster() -> list[dict]:
    """The agents of the current tenant as plain data (for status/help messages)."""
    return [
        {"slug": a.slug, "name": a.name, "title": a.title, "enabled": a.enabled, "model": a.model}
        for a in agent_list()
    ]
