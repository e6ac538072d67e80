"""A company signs up in a real browser against `make run`: the landing page, the form, the
progress while the worker creates the tenant, the new workspace's own address where the admin
signs in, Slack connected both ways ("Add to Slack" through OAuth, and the manifest with a
pasted token; Slack double), Jira (Jira double), agents and tools, then the dashboard, where a
signed Slack event shows up live within 2 seconds."""

from __future__ import annotations

import re
import time

from tests.doubles.jira import JiraDouble
from tests.doubles.ollama import OllamaDouble
from tests.doubles.slack import SlackDouble
from tests.doubles.slack_requests import app_mention_event
from tests.factories import slack_token
from tests.stack_runner import slack_event_post, stack_start

SECRET = "browser-signing-secret"
LIVE_LIMIT_MS = 2000


def post_event(stack, event: dict) -> int:
    return slack_event_post(
        stack, event, team_id="T0BROWSER", bot_user_id="U0BOTBROW", secret=SECRET
    )


def test_from_the_landing_page_to_a_new_workspace(page, screenshot, tmp_path):
    slack, jira = SlackDouble().start(), JiraDouble().start()
    ollama = OllamaDouble(reply_text="Roll back with kubectl rollout undo.").start()
    token = slack_token()
    slack.add_token(token, team_id="T0BROWSER", bot_user_id="U0BOTBROW", team_name="Umbrella")
    slack.authorize_as(team_id="T0OAUTH001", team_name="Umbrella HQ", bot_user_id="U0BOTOAUTH")
    stack = stack_start(
        tmp_path / "data",
        SLACK_API_URL=slack.api_url,
        SLACK_CLIENT_ID=slack.client_id,
        SLACK_CLIENT_SECRET=slack.client_secret,
        SLACK_OAUTH_AUTHORIZE_URL=slack.authorize_url,
        SLACK_SIGNING_SECRET=SECRET,
        OLLAMA_HOST=ollama.url,
        LLM_PROVIDER="ollama",
    )
    try:
        page.goto(f"http://localhost:{stack.port}/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("AI colleagues")
        screenshot("1-landing")

        page.get_by_role("link", name="Create your company's workspace").click()
        page.get_by_label("Company").fill("Umbrella Logistics")
        page.get_by_label("Your work e-mail").fill("alice@umbrella.test")
        page.get_by_label("Password").fill("a-Long-passw0rd!")
        screenshot("2-signup")
        page.get_by_role("button", name="Create the workspace").click()

        page.wait_for_url(re.compile(r"/signup/[0-9a-f-]+/$"))
        status = page.locator("#signup-status")
        seen = {status.get_attribute("data-status")}
        screenshot("3-progress")
        for _ in range(600):  # the progress box refreshes itself (htmx) until it is done
            seen.add(status.get_attribute("data-status"))
            if "ready" in seen or "failed" in seen:
                break
            page.wait_for_timeout(100)
        assert "ready" in seen, seen
        assert seen & {"queued", "creating"}  # progress was shown before the end
        screenshot("4-ready")

        page.get_by_role("link", name="Open your workspace").click()
        page.wait_for_url(re.compile(r"^http://umbrella-logistics\.localhost:\d+/login/"))
        page.get_by_label("E-mail or user name").fill("alice@umbrella.test")
        page.get_by_label("Password").fill("a-Long-passw0rd!")
        page.get_by_role("button", name=re.compile("Log in")).click()
        page.wait_for_url(re.compile(r"/setup/$"))
        assert page.get_by_role("heading", level=1).inner_text() == "Set up your workspace"
        screenshot("5-setup-steps")

        # Slack, "Add to Slack": OAuth v2 through the Slack double's consent page.
        workspace = page.url.split("/setup/")[0]
        page.goto(f"{workspace}/setup/slack/")
        page.get_by_role("link", name="Add to Slack").click()
        page.wait_for_url(re.compile(r"/slack/install\?invite="))
        page.get_by_role("link", name="Add to Slack").click()
        page.wait_for_url(re.compile(r"/oauth/v2/authorize\?"))
        screenshot("6-slack-consent")
        page.locator("#allow").click()
        page.get_by_role("heading", name="Jamono is installed").wait_for()
        assert "Umbrella HQ" in page.content()
        screenshot("6-slack-installed")

        # Slack, the self-hoster's way: the manifest of this server, then the bot token.
        page.goto(f"{workspace}/setup/slack/")
        manifest = page.locator("#slack-manifest").inner_text()
        assert f"{workspace}/slack/events" in manifest and "/nox-status" in manifest
        screenshot("6-slack-manifest")
        page.get_by_label("Bot token").fill(token)
        page.get_by_role("button", name="Connect", exact=True).click()
        page.get_by_text("Slack workspace Umbrella is connected.").wait_for()
        assert token not in page.content()
        screenshot("7-slack-connected")

        page.goto(f"{workspace}/setup/jira/")
        page.get_by_label("Jira site").fill(jira.url)
        page.get_by_label("Account e-mail").fill(jira.email)
        page.get_by_label("API token").fill(jira.api_token)
        page.get_by_label("Default project key").fill("PAY")
        page.get_by_role("button", name="Check and connect").click()
        page.get_by_text("Jira is connected.").wait_for()
        assert jira.api_token not in page.content()
        screenshot("8-jira-connected")

        page.get_by_role("link", name="Next: choose agents and tools").click()
        page.get_by_label("ATLAS", exact=True).uncheck()
        screenshot("9-agents-and-tools")
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_url(re.compile(r"/setup/done/$"))
        assert "/nox-help" in page.content() and "/atlas-help" not in page.content()
        screenshot("10-done")

        # The dashboard: a question asked in Slack appears while the page is open.
        page.get_by_role("link", name="Go to the dashboard").click()
        page.locator('#activity-state[data-state="live"]').wait_for()
        screenshot("11-dashboard")
        sent = time.monotonic()
        mention = app_mention_event("<@U0BOTBROW> is the checkout API slow?", channel="C0OPS")
        assert post_event(stack, mention) == 200
        line = page.locator('.activity-line[data-kind="question"]').first
        line.wait_for(timeout=LIVE_LIMIT_MS)
        assert (time.monotonic() - sent) * 1000 < LIVE_LIMIT_MS
        assert "is the checkout API slow?" in line.inner_text()
        page.locator('.activity-line[data-kind="answer"]').first.wait_for(timeout=60_000)
        screenshot("12-dashboard-live")
    finally:
        stack.stop()
        slack.stop()
        jira.stop()
        ollama.stop()
