"""The retry policy of the outbound client, against slack_sdk's own retry machinery: these
tests fail loudly if slack_sdk stops calling ``_can_retry`` the way 3.48 does."""

import pytest
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from apps.integrations.slack.client import BoundedRateLimitRetryHandler, retry_after_seconds


def can_retry(handler, *, status: int, headers: dict) -> bool:
    return handler.can_retry(
        state=RetryState(),
        request=HttpRequest(method="POST", url="https://slack.test/api/chat.update", headers={}),
        response=HttpResponse(status_code=status, headers=headers),
        error=None,
    )


@pytest.mark.parametrize(
    ("retry_after", "retried"), [(["2"], True), (["10"], True), (["11"], False), (["120"], False)]
)
def test_a_429_is_retried_only_when_slack_asks_for_a_short_wait(settings, retry_after, retried):
    settings.SLACK_MAX_RETRY_AFTER_S = 10
    handler = BoundedRateLimitRetryHandler(max_retry_count=2)

    assert can_retry(handler, status=429, headers={"Retry-After": retry_after}) is retried


def test_other_statuses_are_left_to_the_other_handlers(settings):
    handler = BoundedRateLimitRetryHandler(max_retry_count=2)

    assert can_retry(handler, status=500, headers={}) is False


def test_retry_after_is_read_whatever_its_case_and_unreadable_means_do_not_wait():
    assert retry_after_seconds({"retry-after": ["3"]}) == 3
    assert retry_after_seconds({"Retry-After": "4"}) == 4
    assert retry_after_seconds({}) == 1
    assert retry_after_seconds({"Retry-After": ["soon"]}) == float("inf")
