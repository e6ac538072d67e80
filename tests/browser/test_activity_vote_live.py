"""A vote on the dashboard's home page in a real browser against `make run`: a vote opened by
the votes service (in another process, as a worker opens it) appears live with its tool,
status and tally, and never its arguments; after a reload, the same line comes from the
database."""

from __future__ import annotations

from tests.browser.company import company_with_slack_make, owner_log_in
from tests.doubles.slack import SlackDouble
from tests.factories import slack_token
from tests.stack_runner import stack_start

TEAM, BOT = "T0VOTELIVE", "U0BOTVOTE"
SECRET_ARGUMENT = "my salary is 12345"
LIVE_LIMIT_MS = 5000

# The answer pipeline's gate holding a write call of NOX (the default rule: one approval of
# the thread's people), run in the company's schema by `tenant_command shell`.
VOTE_OPEN = f"""
from django.db import connection
from apps.agents.models import Agent
from apps.integrations.bases.chat import ChatThread, chat_for_team
from apps.tools.catalog import TOOLS
from apps.tools.registry import ToolContext
from apps.votes.services import vote_gate
context = ToolContext(
    agent=Agent.objects.get(slug="nox"),
    schema_name=connection.schema_name,
    requested_by="U0ALICE",
    chat=chat_for_team("{TEAM}"),
    thread=ChatThread(channel="C0VOTELIVE", thread_ts="1700000000.000100", team_id="{TEAM}"),
    participants=("U0ALICE", "U0BOB"),
)
vote_gate(context, TOOLS["jira_create_issue"], {{"summary": "{SECRET_ARGUMENT}"}}, 1)
"""


def test_a_vote_opened_appears_live_with_its_tally(page, screenshot, tmp_path):
    slack = SlackDouble().start()
    token = slack_token()
    slack.add_token(token, team_id=TEAM, bot_user_id=BOT)
    stack = stack_start(tmp_path / "data", SLACK_API_URL=slack.api_url)
    try:
        company_with_slack_make(stack, schema="acme", team_id=TEAM, bot_user_id=BOT, token=token)
        site = f"http://acme.localhost:{stack.port}"
        owner_log_in(page, site)
        page.locator('#activity-state[data-state="live"]').wait_for()

        result = stack.manage("tenant_command", "shell", "--schema", "acme", "-c", VOTE_OPEN)
        assert result.returncode == 0, result.stderr
        line = page.locator('.activity-line[data-kind="vote"]').first
        line.wait_for(timeout=LIVE_LIMIT_MS)
        text = line.inner_text()
        assert "Vote" in text and "NOX" in text and "jira_create_issue" in text
        assert "open" in text and "Approvals 0/1 needed · Rejections 0" in text
        assert "12345" not in page.content()
        screenshot("1-vote-live")

        page.reload()  # the same line, now rendered from the database
        page.locator('#activity-state[data-state="live"]').wait_for()
        line = page.locator('.activity-line[data-kind="vote"]').first
        assert "Approvals 0/1 needed · Rejections 0" in line.inner_text()
        assert "12345" not in page.content()
    finally:
        output = stack.stop()
        slack.stop()
        print(output[-5000:])
