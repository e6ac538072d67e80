"""Tasks go to the queue of their kind (answers; ingestion; housekeeping), and `make run` and
Docker Compose start workers such that no queue shares a worker with answers: a model that
hangs holds answer slots only. The test run's queues are its own (named after its default)."""

import json
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from jamono import stack
from jamono.celery import app as celery_app
from jamono.settings import celery_routing

ROOT = Path(__file__).resolve().parent.parent


def _queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


def _project_task_names() -> set[str]:
    celery_app.loader.import_default_modules()
    return {name for name in celery_app.tasks if name.startswith("apps.")}


def test_every_task_of_the_project_has_a_queue_of_its_own_kind():
    assert _project_task_names()
    assert _project_task_names() <= settings.TASK_KIND_BY_NAME.keys()


@pytest.mark.parametrize(
    ("task_name", "kind"),
    [
        ("apps.conversations.tasks.answer_generate_task", "answers"),
        ("apps.knowledge.tasks.document_index_task", "ingest"),
        ("apps.knowledge.tasks.document_embed_task", "ingest"),
        ("apps.knowledge.tasks.starter_packs_load_task", "ingest"),
        ("apps.conversations.tasks.answers_retry_waiting_all_tenants", "housekeeping"),
        ("apps.knowledge.tasks.documents_embed_waiting_all_tenants", "housekeeping"),
        ("apps.integrations.slack.tasks.slack_install_states_purge_task", "housekeeping"),
    ],
)
def test_a_task_is_routed_to_the_queue_of_its_kind(task_name, kind):
    assert _queue_of(task_name) == settings.TASK_QUEUES[kind]


def test_answers_keep_the_default_queue_and_the_other_kinds_have_their_own():
    queues = settings.TASK_QUEUES

    assert queues["answers"] == settings.CELERY_TASK_DEFAULT_QUEUE
    assert len(set(queues.values())) == 3


def test_the_test_runs_queues_are_all_named_after_its_own_default_queue():
    assert settings.CELERY_TASK_DEFAULT_QUEUE.startswith("jamono-test-")
    for name in settings.TASK_QUEUES.values():
        assert name.startswith(settings.CELERY_TASK_DEFAULT_QUEUE)
    declared = {queue.name for queue in celery_app.conf.task_queues}
    assert declared == set(settings.TASK_QUEUES.values())


def test_a_task_enqueued_by_name_lands_in_its_queue_in_the_broker(settings):
    ingest = settings.TASK_QUEUES["ingest"]
    with celery_app.connection_for_write() as connection:
        client = connection.default_channel.client
        client.delete(ingest)

        celery_app.send_task(
            "apps.knowledge.tasks.document_embed_task",
            kwargs={"document_id": 1, "schema_name": "t_routing"},
        )

        message = json.loads(client.lpop(ingest))
    assert message["headers"]["task"] == "apps.knowledge.tasks.document_embed_task"


def _consumed_queues(command: list[str]) -> list[str]:
    return command[command.index("-Q") + 1].split(",")


def test_make_run_starts_one_worker_for_answers_and_another_for_everything_else():
    commands = stack.child_commands("python", settings)
    queues = settings.TASK_QUEUES

    workers = {name: command for name, command in commands.items() if "worker" in command}
    assert _consumed_queues(workers["answers worker"]) == [queues["answers"]]
    assert _consumed_queues(workers["ingest worker"]) == [queues["ingest"], queues["housekeeping"]]
    # Each queue has exactly one worker, and the two workers are told apart by node name.
    consumed = [queue for command in workers.values() for queue in _consumed_queues(command)]
    assert sorted(consumed) == sorted(queues.values())
    names = [command[command.index("-n") + 1] for command in workers.values()]
    assert len(set(names)) == 2


def test_docker_compose_starts_the_same_two_workers_on_the_production_queue_names():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    production_queues, _, _ = celery_routing("jamono")

    assert _consumed_queues(services["worker"]["command"]) == [production_queues["answers"]]
    assert _consumed_queues(services["worker-ingest"]["command"]) == [
        production_queues["ingest"],
        production_queues["housekeeping"],
    ]
    assert services["worker-ingest"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
