"""Live events (apps.core.live) reach the groups they are sent to, from every kind of process
that sends them: a Celery worker (sync code, no event loop), a sync view under uvicorn (a
thread of the server's event loop), after the transaction commits only."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
import warnings

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core.live import (
    ACTIVITY_PREVIEW_CHARS,
    activity_group,
    activity_preview,
    activity_publish,
    group_send_now,
)

RECEIVE_TIMEOUT_S = 10


def a_group() -> str:
    return f"test-live.{uuid.uuid4().hex[:12]}"


async def listener(group: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def received(channel: str, count: int) -> list[dict]:
    layer = get_channel_layer()
    return [await asyncio.wait_for(layer.receive(channel), RECEIVE_TIMEOUT_S) for _ in range(count)]


def test_events_sent_one_after_another_from_sync_code_without_a_loop_all_arrive(caplog):
    # A Celery worker: each send runs its own event loop, closed after it (with its connections).
    group = a_group()
    channel = async_to_sync(listener)(group)

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        for n in range(5):
            group_send_now(group, {"type": "activity.event", "n": n})
        gc.collect()  # an unclosed connection of a closed loop would warn here

    assert [event["n"] for event in async_to_sync(received)(channel, 5)] == [0, 1, 2, 3, 4]
    assert not [record for record in caplog.records if record.name == "apps.core.live"]
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.parametrize("thread_sensitive", [True, False])
def test_events_sent_from_a_sync_view_under_the_servers_loop_all_arrive(caplog, thread_sensitive):
    # Under uvicorn a sync view runs in a thread while the server's loop keeps running; its
    # sends go through that loop.
    group = a_group()

    def view():
        for n in range(5):
            group_send_now(group, {"type": "activity.event", "n": n})

    async def server():
        channel = await listener(group)
        await sync_to_async(view, thread_sensitive=thread_sensitive)()
        await sync_to_async(view, thread_sensitive=thread_sensitive)()  # a second request
        return await received(channel, 10)

    with caplog.at_level(logging.WARNING):
        events = async_to_sync(server)()

    assert [event["n"] for event in events] == [0, 1, 2, 3, 4] * 2
    assert not [record for record in caplog.records if record.name == "apps.core.live"]


@pytest.mark.django_db(transaction=True)
def test_an_event_is_sent_once_its_transaction_commits_and_never_for_a_rollback(tenant_a):
    from django.db import connection

    connection.set_tenant(tenant_a)
    channel = async_to_sync(listener)(activity_group(tenant_a.schema_name))

    with pytest.raises(RuntimeError), transaction.atomic():
        activity_publish("question", question_id=1)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        activity_publish("question", question_id=2)

    (event,) = async_to_sync(received)(channel, 1)
    assert event["question_id"] == 2  # the rolled back one never came before it
    assert event["kind"] == "question" and event["type"] == "activity.event" and event["at"]


def test_a_preview_is_one_short_line_and_nothing_of_a_direct_message():
    assert activity_preview("how do\n  I roll back?", direct=False) == "how do I roll back?"
    long = activity_preview("word " * 100, direct=False)
    assert len(long) == ACTIVITY_PREVIEW_CHARS and long.endswith("…")
    assert activity_preview("my salary is 12345", direct=True) == ""
