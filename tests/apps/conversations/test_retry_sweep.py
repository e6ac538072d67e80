"""Questions that met an unreachable model are answered by beat's sweep once it is back,
through the real broker and a real worker, each in its own tenant."""

import time

from celery.contrib.testing.worker import start_worker
from django_tenants.utils import schema_context

from apps.conversations.answering import answer_generate
from apps.conversations.models import Message
from apps.conversations.services import slack_question_store
from apps.conversations.tasks import answers_retry_waiting_all_tenants
from apps.integrations.bases.chat import IncomingMessage
from jamono.celery import app as celery_app
from tests.factories import SlackWorkspaceFactory, slack_token, tenant_make


def waiting_question(tenant, slack_double, channel):
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant, bot_token=token)
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id=workspace.bot_user_id)
    with schema_context(tenant.schema_name):
        question = slack_question_store(
            IncomingMessage(
                team_id=workspace.team_id, event_id=f"Ev{channel}", channel_id=channel,
                channel_type="channel", user_id="U0PERSON1", text="is prod ok?",
                ts="1700000000.000100", thread_ts=None,
            ),
            thread_key="1700000000.000100",
        )  # fmt: skip
    return question, token


def test_beat_sweep_answers_waiting_questions_of_every_tenant_with_their_own_tokens(
    transactional_db, slack_double, ollama_double, settings
):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    tenant_a, tenant_b = tenant_make(), tenant_make()
    ollama_double.fail_next(
        4, status=503, path="/api/chat"
    )  # down for both first attempts and their retries
    question_a, token_a = waiting_question(tenant_a, slack_double, "C0SWEEPA")
    question_b, token_b = waiting_question(tenant_b, slack_double, "C0SWEEPB")
    for tenant, question in ((tenant_a, question_a), (tenant_b, question_b)):
        with schema_context(tenant.schema_name):
            answer_generate(question_id=question.pk)
            assert Message.objects.get(pk=question.pk).status == Message.Status.LLM_UNAVAILABLE

    celery_app.control.purge()  # the answer tasks enqueued at store time: only the sweep now
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        answers_retry_waiting_all_tenants.delay()
        deadline = time.monotonic() + 30
        statuses = {}
        while time.monotonic() < deadline:
            for tenant, question in ((tenant_a, question_a), (tenant_b, question_b)):
                with schema_context(tenant.schema_name):
                    statuses[tenant.schema_name] = Message.objects.get(pk=question.pk).status
            if set(statuses.values()) == {Message.Status.ANSWERED}:
                break
            time.sleep(0.2)

    assert set(statuses.values()) == {Message.Status.ANSWERED}
    finals = {c["channel"]: c["token"] for c in slack_double.calls("chat.update")}
    assert finals == {"C0SWEEPA": token_a, "C0SWEEPB": token_b}


def test_the_sweep_does_nothing_while_the_model_is_still_down(
    transactional_db, settings, closed_port_url, slack_double
):
    settings.OLLAMA_HOST = closed_port_url
    tenant = tenant_make()
    question, _ = waiting_question(tenant, slack_double, "C0SWEEPC")

    answers_retry_waiting_all_tenants.apply().get()

    with schema_context(tenant.schema_name):
        assert Message.objects.get(pk=question.pk).attempts == 0
