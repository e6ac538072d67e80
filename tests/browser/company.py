"""A company on a running stack, with Slack connected and an owner, and that owner logged in
in the browser: what most browser tests start from."""

from __future__ import annotations

import re

OWNER, OWNER_PASSWORD = "ana", "a-Long-passw0rd!"


def company_with_slack_make(stack, *, schema: str, team_id: str, bot_user_id: str, token: str):
    """``schema`` created on ``stack``, its Slack workspace connected, its owner created."""
    for args in (
        ("add_tenant", schema, "--name", schema.title()),
        ("connect_slack", schema, "--team-id", team_id, "--bot-token", token,
         "--bot-user-id", bot_user_id),
        ("tenant_command", "shell", "--schema", schema, "-c",
         "from django.contrib.auth import get_user_model; get_user_model().objects"
         f".create_superuser('{OWNER}', '{OWNER}@{schema}.test', '{OWNER_PASSWORD}')"),
    ):  # fmt: skip
        result = stack.manage(*args)
        assert result.returncode == 0, result.stderr


def owner_log_in(page, site: str) -> None:
    """Open the company's site, log in as its owner, land on the dashboard."""
    page.goto(f"{site}/")
    page.wait_for_url(re.compile(r"/login/"))
    page.get_by_label("E-mail or user name").fill(OWNER)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name=re.compile("Log in")).click()
    page.wait_for_url(f"{site}/")
