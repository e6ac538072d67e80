"""The contract for posting to a chat platform. Domain code uses this, never a vendor SDK."""

from __future__ import annotations

import abc


class ChatPostError(Exception):
    """The platform refused or could not take the message; ``code`` is its error code."""

    def __init__(self, code: str, *, retryable: bool = False):
        super().__init__(code)
        self.code = code
        self.retryable = retryable


class ChatPoster(abc.ABC):
    @abc.abstractmethod
    def post(
        self, *, channel: str, thread_ts: str | None, text: str, blocks: list | None = None
    ) -> str:
        """Post a message (in a thread when ``thread_ts``); returns the new message's ts."""

    @abc.abstractmethod
    def update(self, *, channel: str, ts: str, text: str, blocks: list | None = None) -> None:
        """Replace the text (and blocks) of a message this poster posted."""
