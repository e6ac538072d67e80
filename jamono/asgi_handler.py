"""Django's ASGI handler, running our all-synchronous request stack in one thread hop.

Stock ``ASGIHandler`` builds the middleware chain in async mode: every sync-only middleware
(django-tenants', WhiteNoise) flips the chain back and forth between the event loop and a
worker thread, and every ``MiddlewareMixin`` in async mode runs its ``process_request`` and
``process_response`` through ``sync_to_async``: a dozen thread hops per request before a sync
view is even called. Our middleware and views are all synchronous (they use the ORM), so the
chain is built in sync mode and run as one unit in the request's thread-sensitive thread, as
under WSGI. Async views still work: the sync handler runs them through ``async_to_sync``.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncStackASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
