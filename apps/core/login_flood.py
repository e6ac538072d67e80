"""A login flood slowed down before it reaches Django.

django-axes locks an account or an address out after repeated failures, and refuses their
attempts cheaply; but a client that keeps posting still costs a request cycle each time, as
fast as it gets its answers back, and 20 such clients take the CPU that Slack's
acknowledgements need. ``LoginFloodASGI`` counts login posts per client address in each web
process; past ``LOGIN_POSTS_PER_MINUTE`` it answers 429 itself, after ``LOGIN_FLOOD_DELAY_S``
of waiting on the event loop (which costs nothing): a flooding client then sends one attempt
per delay instead of hundreds a second. A person typing a password never gets near the limit.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from django.conf import settings

from apps.core.request_limits import plain_text_send

# The admin sites' login and a company's own login page (apps.accounts).
LOGIN_PATHS = ("/admin/login/", "/login/")
# Addresses remembered per process; past this the oldest are forgotten (memory stays bounded).
MAX_TRACKED_ADDRESSES = 10_000
WINDOW_S = 60.0


class LoginFloodASGI:
    def __init__(self, app):
        self.app = app
        self.posts: dict[str, deque[float]] = {}

    async def __call__(self, scope, receive, send):
        if self._is_flooding(scope):
            await asyncio.sleep(settings.LOGIN_FLOOD_DELAY_S)
            return await plain_text_send(
                send,
                429,
                "Too many login attempts; wait a minute.\n",
                headers=((b"retry-after", b"60"),),
            )
        return await self.app(scope, receive, send)

    def _is_flooding(self, scope) -> bool:
        if scope["type"] != "http" or scope.get("method") != "POST":
            return False
        if scope.get("path") not in LOGIN_PATHS:
            return False
        address = (scope.get("client") or ("unknown",))[0]
        now = time.monotonic()
        posts = self.posts.pop(address, None) or deque()
        while posts and posts[0] < now - WINDOW_S:
            posts.popleft()
        posts.append(now)
        self.posts[address] = posts  # re-inserted: the dict keeps the most recent last
        if len(self.posts) > MAX_TRACKED_ADDRESSES:
            del self.posts[next(iter(self.posts))]
        return len(posts) > settings.LOGIN_POSTS_PER_MINUTE
