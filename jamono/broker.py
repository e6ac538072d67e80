"""Celery's Redis transport, minus a Redis client built for every message sent.

kombu's Redis channel builds a new ``redis.Redis`` (its command table, its callbacks) for each
synchronous command it sends, publishes included: ~0.07 ms of CPU per task, on the path that
acknowledges Slack. A ``redis.Redis`` is safe to share between threads (each command borrows a
connection from the channel's pool), so each channel keeps one.
"""

from kombu.transport import redis


class Channel(redis.Channel):
    _sync_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        if self._sync_client is None:
            self._sync_client = super()._create_client()
        return self._sync_client

    def close(self):
        self._sync_client = None
        super().close()


class Transport(redis.Transport):
    Channel = Channel
