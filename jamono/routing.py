"""WebSocket routes (Channels). Live dashboard feeds are added here by the apps that own them."""

from django.urls import path

from apps.dashboard.consumers import ActivityConsumer

websocket_urlpatterns: list = [
    path("ws/activity/", ActivityConsumer.as_asgi(), name="ws-activity"),
]
