"""The browser chat's socket (``ws/chat/<agent>/``): takes a person's questions for one agent
and forwards the answer's events to their page.

Only staff users of the company whose host the socket came in on are served (the company and
the person come from ``apps.core.sockets``, never from what the client sends); a socket joins
only its person's group in that company, so it never receives another person's answers.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from apps.agents.models import Agent
from apps.conversations.services import QuestionRefused, web_question_store
from apps.integrations.web.events import webchat_group

# Close codes a page can tell apart (4000-4999 are the application's own).
CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NO_AGENT = 4404


class WebChatConsumer(AsyncJsonWebsocketConsumer):
    group = ""

    async def connect(self):
        # Accepted first, closed after: a browser sees the close code only on an open socket.
        await self.accept()
        self.schema_name = self.scope.get("tenant_schema")
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        if not (self.schema_name and user.is_active and user.is_staff):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user_pk = user.pk
        self.agent_slug = self.scope["url_route"]["kwargs"]["slug"]
        self.language = await database_sync_to_async(self._language)()
        if not await database_sync_to_async(self._agent_enabled)():
            with translation.override(self.language):
                text = _("There is no enabled agent %(agent)s here.") % {"agent": self.agent_slug}
            await self.send_json({"kind": "error", "text": text})
            await self.close(code=CLOSE_NO_AGENT)
            return
        self.group = webchat_group(self.schema_name, self.user_pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"kind": "ready", "agent": self.agent_slug})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.group:
            return  # refused at connect, closing
        try:
            content = json.loads(text_data or "")
        except ValueError:
            content = None
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        question = content.get("question") if isinstance(content, dict) else None
        thread = content.get("thread") if isinstance(content, dict) else None
        if not isinstance(question, str) or not isinstance(thread, str):
            with translation.override(self.language):
                text = _('Send {"question": "…", "thread": "…"}.')
            await self.send_json({"kind": "error", "text": text})
            return
        stored = await database_sync_to_async(self._question_store)(question, thread)
        if isinstance(stored, str):
            await self.send_json({"kind": "error", "thread": thread, "text": stored})
            return
        await self.send_json({"kind": "accepted", "thread": thread, "question": stored})

    async def webchat_event(self, event):
        """An event of the answer (``apps.integrations.web.events``), to the page as is."""
        await self.send_json({key: value for key, value in event.items() if key != "type"})

    # --- in the company's schema (database_sync_to_async) ---------------------------------

    def _language(self) -> str:
        with schema_context(get_public_schema_name()):
            tenant = get_tenant_model().objects.filter(schema_name=self.schema_name).first()
        return tenant.language if tenant else translation.get_language()

    def _agent_enabled(self) -> bool:
        with schema_context(self.schema_name):
            return Agent.objects.filter(slug=self.agent_slug, enabled=True).exists()

    def _question_store(self, text: str, thread: str) -> int | str:
        """The stored question's id, or why it was refused (for the person)."""
        with schema_context(self.schema_name), translation.override(self.language):
            agent = Agent.objects.filter(slug=self.agent_slug).first()
            if agent is None:
                return _("There is no enabled agent %(agent)s here.") % {"agent": self.agent_slug}
            try:
                question = web_question_store(
                    user_pk=self.user_pk, agent=agent, text=text, thread_key=thread
                )
            except QuestionRefused as exc:
                return str(exc)
            return question.pk
