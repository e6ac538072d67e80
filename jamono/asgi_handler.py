"""Django's ASGI handler, running our all-synchronous request cycle in one thread hop.

Stock ``ASGIHandler`` builds the middleware chain in async mode: every sync-only middleware
(django-tenants', WhiteNoise) flips the chain back and forth between the event loop and a
worker thread, and every ``MiddlewareMixin`` in async mode runs its ``process_request`` and
``process_response`` through ``sync_to_async``. Around the chain it adds three more hops
(``request_started``, the view, ``response.close()`` with ``request_finished``), a new thread
per request for its thread-sensitive context, and a task watching for disconnects that a sync
view cannot act on. Under a burst that machinery costs more CPU than the view itself.

Our middleware and views are all synchronous (they use the ORM), so the whole cycle runs as one
unit, as under WSGI: signals, middleware, view and the closing of the response, in one call on
a bounded pool of reused threads (as many as the process has database connections, more would
only wait for one). Each call runs in a copy of the request's context, so nothing set by one
request (URLconf, language) leaks into the next one on the same thread. Streaming responses
(static files, downloads) keep Django's own path: their body is produced while it is sent.
Async views still work: the sync handler runs them through ``async_to_sync``.
"""

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections
from django.http import FileResponse
from django.urls import set_script_prefix


class SyncStackASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self._executor = ThreadPoolExecutor(
            max_workers=settings.WEB_REQUEST_THREADS, thread_name_prefix="django-request"
        )

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(
                self._executor, context.run, self._request_cycle, scope, body_file
            )
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await loop.run_in_executor(self._executor, response.close)
        finally:
            body_file.close()

    def _request_cycle(self, scope, body_file):
        """Everything Django does for one request, in this one thread; the response returned
        is closed (``request_finished`` sent, database connection back to the pool) unless its
        body still has to be streamed."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if response.streaming:
            # The body is produced later, in another thread: this one's database connection
            # is done with and goes back to the pool now, not when the thread is next used.
            close_old_connections()
        else:
            response.close()
        return response
