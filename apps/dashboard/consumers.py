"""The company's live activity feed, as a WebSocket (``ws/activity/``).

Who may listen: an active staff user of the company whose host the socket opened on (the same
people as the dashboard's pages, ``apps.core.web.workspace_page``). The group comes from the
socket's scope only (``apps.core.sockets``), never from what the client sends.
"""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from apps.core.live import activity_group

# Close codes a page can act on (the 4000s are the application's own): 4401 log in again,
# 4403 this person may not read the feed. Sent after accepting: a refused handshake reaches a
# browser as a bare 1006, without its reason.
CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403


class ActivityConsumer(AsyncWebsocketConsumer):
    group_name: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        schema_name = self.scope.get("tenant_schema")
        await self.accept()
        if not schema_name or user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        if not (user.is_active and user.is_staff):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group_name = activity_group(schema_name)
        await self.channel_layer.group_add(self.group_name, self.channel_name)

    async def disconnect(self, code):
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # The feed only speaks; a client's "ping" (keep-alive through proxies) gets a "pong",
        # anything else is ignored.
        if self.group_name and text_data == "ping":
            await self.send(text_data="pong")

    async def activity_event(self, event):
        """An event of ``apps.core.live.activity_publish``, relayed as JSON."""
        await self.send(
            text_data=json.dumps({key: value for key, value in event.items() if key != "type"})
        )
