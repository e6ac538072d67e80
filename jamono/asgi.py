"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamono.settings")
django.setup(set_prefix=False)

from jamono import embedded  # noqa: E402

# `make run` and Docker Compose give uvicorn the URLs; started alone without them, it stops here.
embedded.standalone_settings_require("uvicorn jamono.asgi")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.core.login_flood import LoginFloodASGI  # noqa: E402
from apps.core.request_limits import RequestBodyLimitASGI  # noqa: E402
from apps.core.sockets import TenantSessionMiddleware  # noqa: E402
from jamono.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # An oversized body is refused before Django's handler reads it (apps.core.request_limits),
        # a login flood slowed down before it costs a request cycle (apps.core.login_flood).
        "http": LoginFloodASGI(RequestBodyLimitASGI(django_asgi_app)),
        "websocket": AllowedHostsOriginValidator(
            TenantSessionMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything loaded so far (Django, the apps, their libraries) lives as long as the process.
# Frozen, it is left out of the garbage collector's full passes, which otherwise walk all of it
# and stop every request in the process for 60-80 ms, a few times a minute under load.
gc.collect()
gc.freeze()
