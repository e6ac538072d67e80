"""Thin Celery wrappers around agent services/selectors, always inside one tenant."""

from apps.agents.selectors import agent_roster
from apps.agents.services import agents_sync_definitions
from apps.core.tenant_tasks import tenant_task


@tenant_task
def agents_sync_definitions_task() -> list[str]:
    return agents_sync_definitions()


@tenant_task
def agent_roster_task() -> list[dict]:
    return agent_roster()
