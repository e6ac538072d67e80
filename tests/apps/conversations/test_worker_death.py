"""A worker killed (SIGKILL) in the middle of an answer: after a restart, the person still gets
exactly one answer, in the message the dead worker had posted. Real worker processes, the real
broker, the Slack and Ollama doubles."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from apps.conversations.models import Message
from apps.conversations.services import slack_question_store
from apps.conversations.tasks import answers_retry_waiting_all_tenants
from tests.conftest import ROOT, child_process_environment
from tests.doubles.base import Reply
from tests.factories import SlackWorkspaceFactory, incoming_message, slack_token, tenant_make

CHANNEL, ROOT_TS = "C0KILLED01", "1700000000.000100"
CLAIM_TIMEOUT_S = 3


def queues_of_this_run() -> str:
    """Every queue this test run's tasks may be routed to."""
    routed = [queue.name for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or []]
    return ",".join(routed or [settings.CELERY_TASK_DEFAULT_QUEUE])


def worker_start(slack_double, ollama_double) -> subprocess.Popen:
    env = child_process_environment(
        SLACK_API_URL=slack_double.api_url,
        OLLAMA_HOST=ollama_double.url,
        LLM_PROVIDER="ollama",
        SLACK_UPDATE_INTERVAL_S="0",
        ANSWER_CLAIM_TIMEOUT_S=str(CLAIM_TIMEOUT_S),
        JAMONO_LOG_LEVEL="WARNING",
        # The test settings, on this test's queue: what the worker enqueues stays there.
        DJANGO_SETTINGS_MODULE="tests.settings",
        JAMONO_TEST_CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jamono", "worker", "--pool", "solo",
         "-Q", queues_of_this_run(), "--without-mingle", "--without-gossip",
         "--loglevel", "WARNING"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip


def worker_kill(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail("condition not met in time")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_answer_still_gives_exactly_one_answer_in_the_same_message(
    slack_double, ollama_double
):
    tenant = tenant_make()
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant, bot_token=token)
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id=workspace.bot_user_id)
    released = threading.Event()

    def stalled_answer():
        first = {"model": "llama3.1:8b", "message": {"role": "assistant", "content": "Check "}}
        yield json.dumps({**first, "done": False}).encode() + b"\n"
        released.wait(60)  # the model is still thinking when the worker dies

    ollama_double.reply_next(
        Reply.stream(stalled_answer(), content_type="application/x-ndjson"), path="/api/chat"
    )
    ollama_double.reply_text = "Restart the stuck pod."
    with schema_context(tenant.schema_name):
        question = slack_question_store(
            incoming_message(team_id=workspace.team_id, channel_id=CHANNEL, ts=ROOT_TS),
            thread_key=ROOT_TS,
        )

    first_worker = worker_start(slack_double, ollama_double)
    second_worker = None
    try:
        wait_for(lambda: ollama_double.requests_to("/api/chat"))
        placeholder = slack_double.calls("chat.postMessage")[0]
        worker_kill(first_worker)
        released.set()
        with schema_context(tenant.schema_name):
            assert Message.objects.get(pk=question.pk).status == Message.Status.ANSWERING

        time.sleep(CLAIM_TIMEOUT_S + 0.5)  # the dead worker's claim goes stale
        second_worker = worker_start(slack_double, ollama_double)
        answers_retry_waiting_all_tenants.delay()

        def answered():
            with schema_context(tenant.schema_name):
                return Message.objects.get(pk=question.pk).status == Message.Status.ANSWERED

        wait_for(answered)
    finally:
        released.set()
        for worker in (first_worker, second_worker):
            if worker is not None:
                worker_kill(worker)

    assert placeholder["channel"] == CHANNEL and "thinking" in placeholder["text"]
    assert len(slack_double.calls("chat.postMessage")) == 1  # the placeholder, reused
    agent_messages = [m for m in slack_double.thread(CHANNEL, ROOT_TS) if m.get("bot_id")]
    assert len(agent_messages) == 1
    assert "Restart the stuck pod." in json.dumps(agent_messages[0]["blocks"])
    with schema_context(tenant.schema_name):
        question = Message.objects.get(pk=question.pk)
        assert question.attempts == 2
        assert Message.objects.filter(in_reply_to=question).count() == 1
