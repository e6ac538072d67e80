"""The dashboard's home page in a real browser against `make run`: a Slack question stored by
the web process and answered by the worker appears on the page, live, without a reload; a
direct message's text never does."""

from __future__ import annotations

import time

from tests.browser.company import company_with_slack_make, owner_log_in
from tests.doubles.ollama import OllamaDouble
from tests.doubles.slack import SlackDouble
from tests.doubles.slack_requests import app_mention_event, message_event
from tests.factories import slack_token
from tests.stack_runner import slack_event_post, stack_start

SECRET = "live-signing-secret"
TEAM, BOT = "T0LIVEAAA", "U0BOTLIVE"
ANSWER_WORDS = "Roll back with kubectl rollout undo."
LIVE_LIMIT_MS = 2000


def post_event(stack, event: dict) -> int:
    return slack_event_post(stack, event, team_id=TEAM, bot_user_id=BOT, secret=SECRET)


def test_a_slack_question_and_its_answer_appear_live_on_the_home_page(page, screenshot, tmp_path):
    slack = SlackDouble().start()
    ollama = OllamaDouble(reply_text=ANSWER_WORDS).start()
    token = slack_token()
    slack.add_token(token, team_id=TEAM, bot_user_id=BOT)
    stack = stack_start(
        tmp_path / "data",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        OLLAMA_HOST=ollama.url,
        LLM_PROVIDER="ollama",
    )
    try:
        company_with_slack_make(stack, schema="acme", team_id=TEAM, bot_user_id=BOT, token=token)
        site = f"http://acme.localhost:{stack.port}"
        owner_log_in(page, site)
        page.locator('#activity-state[data-state="live"]').wait_for()
        assert "NOX" in page.locator(".agents-summary").inner_text()
        screenshot("1-home-live")

        sent = time.monotonic()
        assert post_event(stack, app_mention_event(f"<@{BOT}> how do I roll back?")) == 200
        question = page.locator('.activity-line[data-kind="question"]').first
        question.wait_for(timeout=LIVE_LIMIT_MS)
        arrived_ms = (time.monotonic() - sent) * 1000
        assert "how do I roll back?" in question.inner_text()
        assert arrived_ms < LIVE_LIMIT_MS, arrived_ms

        answer = page.locator('.activity-line[data-kind="answer"]').first
        answer.wait_for(timeout=60_000)
        assert ANSWER_WORDS in answer.inner_text() and "NOX" in answer.inner_text()
        assert page.locator('.activity-line[data-kind="thinking"]').count() == 1
        screenshot("2-question-answered")

        assert post_event(stack, message_event("my salary is 12345", channel="D0LIVEDM1")) == 200
        page.locator('.activity-line[data-kind="question"]').nth(1).wait_for()
        direct = page.locator('.activity-line[data-kind="question"]').first
        assert "direct message" in direct.inner_text()
        assert "12345" not in page.content()
        screenshot("3-direct-message")

        page.reload()  # the same lines, now rendered from the database
        page.locator('#activity-state[data-state="live"]').wait_for()
        assert ANSWER_WORDS in page.locator("#activity-feed").inner_text()
        assert "12345" not in page.content()
    finally:
        output = stack.stop()
        slack.stop()
        ollama.stop()
        print(output[-5000:])
