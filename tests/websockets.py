"""Helpers for tests of a company's WebSockets (apps.core.sockets, the dashboard's feed):
a logged-in person's session cookie, and a socket opened as a browser on a host opens it."""

from __future__ import annotations

import json

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from tests.factories import tenant_browser

RECEIVE_TIMEOUT_S = 10


class SocketClient(ApplicationCommunicator):
    """A browser's side of one WebSocket, for an ASGI application (channels.testing's
    WebsocketCommunicator, whose package needs daphne, which the project does not install)."""

    def __init__(self, application, path: str, *, headers: list):
        scope = {
            "type": "websocket",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "subprotocols": [],
        }
        super().__init__(application, scope)

    async def connect(self) -> bool:
        """Whether the application accepted the socket."""
        await self.send_input({"type": "websocket.connect"})
        return (await self.receive_output(RECEIVE_TIMEOUT_S))["type"] == "websocket.accept"

    async def closed_with(self) -> int:
        """The code the application closes the socket with (fails on anything else)."""
        message = await self.receive_output(RECEIVE_TIMEOUT_S)
        assert message["type"] == "websocket.close", message
        # What a server does once the socket is closed: the application hears it and ends,
        # rather than being cancelled mid-await when the test's event loop closes.
        await self.send_input({"type": "websocket.disconnect", "code": message.get("code", 1000)})
        await self.wait(RECEIVE_TIMEOUT_S)
        return message.get("code", 1000)

    async def send_text(self, text: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text})

    async def receive_text(self) -> str:
        message = await self.receive_output(RECEIVE_TIMEOUT_S)
        assert message["type"] == "websocket.send", message
        return message["text"]

    async def receive_json(self) -> dict:
        return json.loads(await self.receive_text())

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(RECEIVE_TIMEOUT_S)


def session_cookie(tenant, **kwargs) -> str:
    """The session cookie header of a staff user logged in on ``tenant``'s site (see
    ``tenant_browser`` for ``superuser`` and ``permissions``)."""
    client = tenant_browser(Client(), tenant, set_host=False, **kwargs)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def domain_of(tenant) -> str:
    return tenant.get_primary_domain().domain


def socket_headers(host: str, *, cookie: str = "", origin: str | None = None) -> list:
    """What a browser sends: Host, Origin (the page's, by default the same host), cookies."""
    headers = [
        (b"host", f"{host}:8000".encode()),
        (b"origin", (origin or f"http://{host}:8000").encode()),
    ]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return headers


def activity_socket(host: str, *, cookie: str = "", origin: str | None = None):
    """A socket on the dashboard's feed through the project's ASGI application."""
    from jamono.asgi import application

    return SocketClient(
        application, "/ws/activity/", headers=socket_headers(host, cookie=cookie, origin=origin)
    )
