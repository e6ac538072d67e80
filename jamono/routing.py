"""WebSocket routes (Channels). Live dashboard feeds are added here by the apps that own them."""

from django.urls import path

from apps.dashboard.consumers import ActivityConsumer
from apps.integrations.web.consumers import WebChatConsumer

websocket_urlpatterns: list = [
    path("ws/activity/", ActivityConsumer.as_asgi(), name="ws-activity"),
    path("ws/chat/<slug:slug>/", WebChatConsumer.as_asgi()),
]
