"""Thin Celery wrappers over the votes' services, always inside one tenant."""

from celery import shared_task

from apps.core.selectors import tenant_schema_names
from apps.core.tenant_tasks import enqueue_for_tenant, tenant_task
from apps.votes.services import (
    vote_advice_gather,
    vote_execute,
    vote_message_refresh,
    vote_reply,
    votes_expire,
)


@tenant_task(ignore_result=True)
def vote_execute_task(vote_id: int) -> None:
    vote_execute(vote_id)


@tenant_task(ignore_result=True)
def vote_advice_task(vote_id: int) -> None:
    vote_advice_gather(vote_id)


@tenant_task(ignore_result=True)
def vote_message_refresh_task(vote_id: int) -> None:
    vote_message_refresh(vote_id)


@tenant_task(ignore_result=True)
def vote_reply_task(team_id: str, channel_id: str, thread_ts: str, user_id: str, text: str) -> None:
    vote_reply(
        team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, user_id=user_id, text=text
    )


@tenant_task(ignore_result=True)
def votes_expire_task() -> int:
    return votes_expire()


@shared_task(ignore_result=True)
def votes_expire_all_tenants() -> None:
    """Beat entry point: one expiry sweep per tenant."""
    for schema_name in tenant_schema_names():
        enqueue_for_tenant(votes_expire_task, schema_name=schema_name)
