"""The ASGI entry point: Django's own ASGI handler for HTTP (Channels for WebSockets)."""

import gc
import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from jamono.asgi import application, django_asgi_app


def asgi_request(
    path: str, *, method: str = "GET", body: bytes = b"", headers=(), app=application
) -> tuple:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }

    async def exchange():
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": body})
        start = await communicator.receive_output(timeout=30)
        content = b""
        while True:
            message = await communicator.receive_output(timeout=30)
            content += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(timeout=30)
        return start["status"], content

    return async_to_sync(exchange)()


def test_http_is_served_by_djangos_own_asgi_handler():
    assert type(django_asgi_app) is ASGIHandler


def test_a_slack_request_with_a_bad_signature_is_refused_through_asgi(settings):
    settings.SLACK_SIGNING_SECRET = "asgi-signing-secret"
    status, body = asgi_request(
        "/slack/events",
        method="POST",
        body=b'{"type": "event_callback"}',
        headers=[
            (b"content-type", b"application/json"),
            (b"x-slack-request-timestamp", b"1"),
            (b"x-slack-signature", b"v0=00"),
        ],
    )
    assert status in (401, 403)
    assert "error" in json.loads(body)


def test_healthz_answers_through_asgi_with_database_and_broker_up(transactional_db):
    status, body = asgi_request("/healthz")

    assert status == 200, body
    assert json.loads(body) == {"db": "ok", "broker": "ok"}


@pytest.fixture
def test_urls(settings):
    settings.PUBLIC_SCHEMA_URLCONF = "tests.apps.core.asgi_urls"


def test_a_request_does_not_see_what_an_earlier_one_set(test_urls):
    assert asgi_request("/slack/test/marker-set")[0] == 200

    status, body = asgi_request("/slack/test/marker-read")

    assert (status, body) == (200, b"unset")


# WhiteNoise's files are sync iterators too; production silences this warning (settings.py).
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous")
def test_a_streamed_response_arrives_whole(test_urls, transactional_db):
    status, body = asgi_request("/slack/test/streamed")

    assert (status, body) == (200, b"part 0;part 1;part 2;")


def test_what_the_web_process_loaded_at_startup_is_left_out_of_full_gc_passes():
    # Importing jamono.asgi (as this module does) froze Django, the apps and their libraries:
    # ~100,000 objects that a full collection would otherwise walk, stopping every request.
    assert gc.get_freeze_count() > 50_000
