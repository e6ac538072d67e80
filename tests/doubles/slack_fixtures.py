"""Pytest fixtures for the Slack Web API protocol double."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.integrations.slack.chat import streaming_refusals_clear
from tests.doubles.slack import SlackDouble


@pytest.fixture
def slack_double(settings) -> Iterator[SlackDouble]:
    """A fresh Slack Web API double for one test; ``settings.SLACK_API_URL`` points at it.

    Its OAuth app credentials are ``slack_double.client_id`` / ``client_secret``; tests of the
    install flow put them into ``settings`` themselves.

    It plays a workspace without Slack's streaming methods, so answers arrive as a placeholder
    edited by chat.update; tests of native streaming set ``streaming_supported = True``.
    """
    double = SlackDouble().start()
    double.streaming_supported = False
    streaming_refusals_clear()
    settings.SLACK_API_URL = double.api_url
    try:
        yield double
    finally:
        double.stop()
