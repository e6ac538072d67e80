"""A login flood is slowed down before Django: past the per-address limit, each further login
post waits, then gets 429 without reaching Django."""

import time

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from apps.core.login_flood import LoginFloodASGI


class CountingApp:
    """Stands for Django: answers 200 and counts the requests that reached it."""

    def __init__(self):
        self.served = 0

    async def __call__(self, scope, receive, send):
        self.served += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def request(app, *, method="POST", path="/admin/login/", client="203.0.113.7") -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [], "client": (client, 40000), "server": ("t", 80),
    }  # fmt: skip

    async def exchange():
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(timeout=10)
        await communicator.receive_output(timeout=10)
        return start["status"]

    return async_to_sync(exchange)()


@pytest.fixture
def flood_limits(settings):
    settings.LOGIN_POSTS_PER_MINUTE = 3
    settings.LOGIN_FLOOD_DELAY_S = 0.2


def test_past_the_limit_login_posts_wait_and_get_429_without_reaching_django(flood_limits):
    django = CountingApp()
    app = LoginFloodASGI(django)

    first = [request(app) for _ in range(3)]
    started = time.monotonic()
    flooding = request(app)

    assert first == [200, 200, 200]
    assert flooding == 429 and time.monotonic() - started >= 0.2
    assert django.served == 3


def test_other_addresses_pages_and_methods_are_not_slowed(flood_limits):
    django = CountingApp()
    app = LoginFloodASGI(django)
    for _ in range(4):
        request(app)

    assert request(app, client="198.51.100.1") == 200  # another address
    assert request(app, method="GET") == 200  # the login page itself
    assert request(app, path="/slack/events") == 200  # Slack, whatever the flood
