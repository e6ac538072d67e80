"""The set-up steps a new company goes through on its own site: connect Slack, connect Jira,
choose agents and tools, then a page saying what to type in Slack. Every step can be skipped
and the wizard resumes at the first step neither done nor skipped.

"Done" is read from the company's state (a Slack workspace connected, Jira connected, the
agents chosen), so it is true whichever way it happened (this wizard, a command, the admin);
"skipped" is remembered in the person's session.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext_lazy as _

from apps.integrations.jira.selectors import jira_connected
from apps.integrations.slack.selectors import slack_workspaces_connected

SKIPPED_SESSION_KEY = "setup_skipped"
AGENTS_CHOSEN_SESSION_KEY = "setup_agents_chosen"
# In the order they are offered; "done" is the last page, never skipped.
STEP_KEYS = ("slack", "jira", "agents")
STEP_URLS = {
    "slack": "/setup/slack/",
    "jira": "/setup/jira/",
    "agents": "/setup/agents/",
    "done": "/setup/done/",
}
STEP_TITLES = {
    "slack": _("Connect Slack"),
    "jira": _("Connect Jira"),
    "agents": _("Choose agents and tools"),
}


@dataclass(frozen=True)
class SetupStep:
    key: str
    title: str
    url: str
    done: bool
    skipped: bool
    summary: str = ""


def setup_steps(session) -> list[SetupStep]:
    skipped = set(session.get(SKIPPED_SESSION_KEY, []))
    workspaces = slack_workspaces_connected(schema_name=connection.schema_name)
    done = {
        "slack": bool(workspaces),
        "jira": jira_connected(),
        "agents": bool(session.get(AGENTS_CHOSEN_SESSION_KEY)),
    }
    summaries = {
        "slack": ", ".join(w.team_name or w.team_id for w in workspaces),
    }
    return [
        SetupStep(
            key=key,
            title=str(STEP_TITLES[key]),
            url=STEP_URLS[key],
            done=done[key],
            skipped=key in skipped and not done[key],
            summary=summaries.get(key, ""),
        )
        for key in STEP_KEYS
    ]


def setup_next_url(session, *, after: str | None = None) -> str:
    """The first step after ``after`` (from the start when None) neither done nor skipped;
    the closing page when there is none."""
    keys = list(STEP_KEYS)
    start = keys.index(after) + 1 if after in keys else 0
    for step in setup_steps(session)[start:]:
        if not step.done and not step.skipped:
            return step.url
    return STEP_URLS["done"]


def setup_step_skip(session, key: str) -> None:
    if key not in STEP_KEYS:
        raise ValueError(key)
    skipped = set(session.get(SKIPPED_SESSION_KEY, []))
    skipped.add(key)
    session[SKIPPED_SESSION_KEY] = sorted(skipped)


def setup_agents_mark_chosen(session) -> None:
    session[AGENTS_CHOSEN_SESSION_KEY] = True
