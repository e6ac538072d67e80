"""slack_sdk clients for one workspace, and the ChatPoster built on them."""

from __future__ import annotations

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from apps.integrations.bases.chat import ChatPoster, ChatPostError

SLACK_TIMEOUT_S = 10
# Errors after which trying again later may work; anything else (invalid_auth,
# channel_not_found, not_in_channel…) needs a person to fix the install.
RETRYABLE_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable"}


def slack_web_client(token: str | None = None) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.SLACK_API_URL,
        timeout=SLACK_TIMEOUT_S,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackChatPoster(ChatPoster):
    def __init__(self, token: str):
        self._client = slack_web_client(token)

    def post(self, *, channel, thread_ts, text, blocks=None) -> str:
        response = self._call(
            self._client.chat_postMessage,
            channel=channel,
            thread_ts=thread_ts or None,
            text=text,
            blocks=blocks,
            unfurl_links=False,
        )
        return response["ts"]

    def update(self, *, channel, ts, text, blocks=None) -> None:
        self._call(self._client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks)

    @staticmethod
    def _call(method, **kwargs):
        try:
            return method(**{k: v for k, v in kwargs.items() if v is not None})
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            raise ChatPostError(code, retryable=code in RETRYABLE_ERRORS) from None
        except (SlackRequestError, OSError) as exc:
            raise ChatPostError(f"connection_error: {type(exc).__name__}", retryable=True) from None
