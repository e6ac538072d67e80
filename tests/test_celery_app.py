"""The Celery app: configuration read from Django's CELERY_* settings, and messages flowing
through the broker from many threads at once (web requests publish from a thread pool)."""

import threading

from django.conf import settings

from jamono.celery import app as celery_app


def test_every_celery_setting_of_django_reaches_celery_under_its_own_name():
    names = [name for name in dir(settings) if name.startswith("CELERY_")]

    assert len(names) > 10
    for name in names:
        key = name.removeprefix("CELERY_").lower()
        assert celery_app.conf[key] == getattr(settings, name)
    # The test settings name their own queue: the app must not be using Celery's default.
    assert celery_app.conf.task_default_queue == settings.CELERY_TASK_DEFAULT_QUEUE != "celery"


def test_settings_left_unset_keep_celerys_defaults():
    assert celery_app.conf.task_protocol == 2
    assert celery_app.conf.task_always_eager is False


def test_messages_published_from_many_threads_all_reach_the_broker():
    with celery_app.connection_for_write() as connection:
        queue = connection.SimpleQueue(f"{settings.CELERY_TASK_DEFAULT_QUEUE}-transport")
        try:

            def send_25(n):
                for i in range(25):
                    queue.put({"n": n, "i": i})

            senders = [threading.Thread(target=send_25, args=(n,)) for n in range(8)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            received = []
            for _ in range(8 * 25):
                message = queue.get(timeout=5)
                received.append((message.payload["n"], message.payload["i"]))
                message.ack()
            assert sorted(received) == [(n, i) for n in range(8) for i in range(25)]
        finally:
            queue.queue.delete()
            queue.close()
