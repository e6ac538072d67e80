"""The browser chat's socket, as a browser opens it: through the project's ASGI application,
with the company's host, an Origin the site allows and the session cookie of a login."""

from __future__ import annotations

import json

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from jamono.asgi import application

RECEIVE_TIMEOUT_S = 20


class SocketClient(ApplicationCommunicator):
    """A browser's WebSocket, at the ASGI level (what ``channels.testing``'s communicator
    does; that module needs daphne, which the project does not use)."""

    def __init__(self, application, path: str, headers: list[tuple[bytes, bytes]]):
        super().__init__(
            application,
            {
                "type": "websocket",
                "asgi": {"version": "3.0"},
                "scheme": "ws",
                "path": path,
                "raw_path": path.encode(),
                "query_string": b"",
                "headers": headers,
                "subprotocols": [],
                "client": ("127.0.0.1", 40000),
                "server": ("testserver", 80),
            },
        )

    async def connect(self, timeout: float = RECEIVE_TIMEOUT_S) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, None

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data) -> None:
        await self.send_to(json.dumps(data))

    async def receive_json_from(self, timeout: float = RECEIVE_TIMEOUT_S):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 20) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def person_make(tenant, username: str, *, is_staff: bool = True):
    """A user of ``tenant``'s site (staff by default)."""
    with schema_context(tenant.schema_name):
        return get_user_model().objects.create_user(
            username, f"{username}@acme.test", "pw-1234567", is_staff=is_staff
        )


def session_cookie(tenant, user) -> str:
    """The session cookie a browser gets by logging ``user`` in on ``tenant``'s site."""
    client = Client()
    with schema_context(tenant.schema_name):
        client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def chat_socket(host: str, slug: str = "nox", cookie: str = "") -> SocketClient:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return SocketClient(application, f"/ws/chat/{slug}/", headers)


def host_of(tenant) -> str:
    return tenant.get_primary_domain().domain


async def events_until(socket: SocketClient, kind: str) -> list[dict]:
    """Every event the socket receives, up to and including the first of ``kind``."""
    events = []
    while True:
        event = await socket.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        events.append(event)
        if event.get("kind") == kind:
            return events


@pytest.fixture
def ana(tenant_a):
    return person_make(tenant_a, "ana")
