"""The ASGI entry point runs Django's middleware chain synchronously, in one thread hop."""

import json

from asgiref.sync import async_to_sync, iscoroutinefunction
from asgiref.testing import ApplicationCommunicator

from jamono.asgi import application, django_asgi_app


def asgi_request(path: str, *, method: str = "GET", body: bytes = b"", headers=()) -> tuple:
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
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": body})
        start = await communicator.receive_output(timeout=30)
        content = await communicator.receive_output(timeout=30)
        await communicator.wait(timeout=30)
        return start["status"], content.get("body", b"")

    return async_to_sync(exchange)()


def test_the_middleware_chain_is_built_synchronous():
    assert not iscoroutinefunction(django_asgi_app._middleware_chain)


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
