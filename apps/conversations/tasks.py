"""Thin Celery wrappers: answer one question; sweep waiting questions in every tenant."""

from celery import shared_task
from django.db import connection

from apps.conversations.answering import AnswerError, answer_generate
from apps.conversations.selectors import questions_waiting_for_answer
from apps.core.tenant_tasks import enqueue_for_tenant, tenant_task


@tenant_task(acks_late=True, ignore_result=True)
def answer_generate_task(question_id: int) -> None:
    try:
        answer_generate(question_id=question_id)
    except AnswerError:
        # Nothing to retry: the question is gone or its workspace was disconnected.
        return


@tenant_task(ignore_result=True)
def answers_retry_waiting_task() -> int:
    """Re-enqueue this tenant's questions that wait for the language model."""
    waiting = list(questions_waiting_for_answer().values_list("pk", flat=True))
    for question_id in waiting:
        enqueue_for_tenant(
            answer_generate_task,
            schema_name=connection.schema_name,
            kwargs={"question_id": question_id},
        )
    return len(waiting)


@shared_task(ignore_result=True)
def answers_retry_waiting_all_tenants() -> None:
    """Beat entry point: fan out one sweep per tenant (each runs in its own schema)."""
    from apps.integrations.llm import llm_provider_get
    from apps.tenants.selectors import tenant_list

    if not llm_provider_get().health(timeout_s=3).reachable:
        return  # still down: retrying now would only repeat the "can't reach" notice
    for tenant in tenant_list():
        enqueue_for_tenant(answers_retry_waiting_task, schema_name=tenant.schema_name)


@tenant_task(acks_late=True, ignore_result=True)
def answer_remember_task(answer_id: int) -> None:
    from apps.conversations.models import Message
    from apps.knowledge.services import answer_remember

    answer = Message.objects.filter(pk=answer_id).select_related("in_reply_to").first()
    if answer is not None:
        answer_remember(answer)
