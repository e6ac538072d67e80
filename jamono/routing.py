"""WebSocket routes (Channels). Live dashboard feeds are added here by the apps that own them."""

websocket_urlpatterns: list = []
