"""The outbound Slack client: slack_sdk's WebClient, with the retry policy Jamono wants."""

from __future__ import annotations

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from apps.integrations.bases.chat import ChatPostError

SLACK_TIMEOUT_S = 10
# Errors after which trying again later may work; anything else (invalid_auth,
# channel_not_found, not_in_channel…) needs a person to fix the install.
RETRYABLE_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable"}


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (it sleeps ``Retry-After``, then retries), for waits up to
    ``SLACK_MAX_RETRY_AFTER_S`` only: a worker must not sleep for minutes. A longer wait
    ends in a ``ratelimited`` error, which callers treat as retryable later.

    ``_can_retry`` is the hook slack_sdk documents for custom retry handlers (written against
    slack_sdk 3.48; tests/apps/integrations/slack/test_client.py fails if the hook or the
    shape of the responses it is given changes).
    """

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        return retry_after_seconds(response.headers) <= settings.SLACK_MAX_RETRY_AFTER_S


def retry_after_seconds(headers: dict) -> float:
    """The ``Retry-After`` of a 429 (slack_sdk gives header values as lists); 1 if absent."""
    for name, values in headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return float(value)
            except (TypeError, ValueError):
                return float("inf")  # unreadable: do not guess, do not sleep
    return 1.0


def slack_web_client(token: str | None = None) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.SLACK_API_URL,
        timeout=SLACK_TIMEOUT_S,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            BoundedRateLimitRetryHandler(max_retry_count=2),
        ],
    )


def slack_call(method, **kwargs):
    """Call a WebClient method; Slack's refusals and network failures become
    ``ChatPostError`` (its code is Slack's error code, never a token)."""
    try:
        return method(**{key: value for key, value in kwargs.items() if value is not None})
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown_error"))
        raise ChatPostError(code, retryable=code in RETRYABLE_ERRORS) from None
    except (SlackRequestError, OSError) as exc:
        raise ChatPostError(f"connection_error: {type(exc).__name__}", retryable=True) from None
