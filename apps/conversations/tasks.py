"""Thin Celery wrappers: answer one question; sweep waiting questions in every tenant;
remember a finished answer."""

from celery import shared_task
from django.db import connection

from apps.conversations.answering import AnswerError, answer_generate
from apps.conversations.memory import answer_remember
from apps.conversations.selectors import answer_get, questions_waiting_for_answer
from apps.core.selectors import tenant_schema_names
from apps.core.tenant_tasks import enqueue_for_tenant, tenant_task
from apps.integrations.bases.llm import llm_provider_get


# acks_late + reject_on_worker_lost: a worker that dies mid-answer leaves the task in the
# broker, delivered again; its claim (the same task id) is then taken over at once.
@tenant_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def answer_generate_task(self, question_id: int) -> None:
    try:
        answer_generate(question_id=question_id, task_id=self.request.id or "")
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
    if not llm_provider_get().health(timeout_s=3).reachable:
        return  # still down: retrying now would only repeat the "can't reach" notice
    for schema_name in tenant_schema_names():
        enqueue_for_tenant(answers_retry_waiting_task, schema_name=schema_name)


@tenant_task(acks_late=True, ignore_result=True)
def answer_remember_task(answer_id: int) -> None:
    answer = answer_get(answer_id=answer_id)
    if answer is not None:
        answer_remember(answer)
