from __future__ import annotations

from dataclasses import dataclass

from apps.workspaces.models import SlackWorkspace


def slack_workspace_get_by_team(*, team_id: str) -> SlackWorkspace | None:
    """The active workspace for a Slack team, with its tenant (public-schema lookup)."""
    return (
        SlackWorkspace.objects.select_related("tenant")
        .filter(team_id=team_id, is_active=True)
        .first()
    )


@dataclass(frozen=True)
class SlackTeamRoute:
    """Where a Slack team's requests go: enough to route and acknowledge, no secrets."""

    team_id: str
    bot_user_id: str
    schema_name: str
    language: str


def slack_team_route(*, team_id: str) -> SlackTeamRoute | None:
    """One indexed query, no decryption: this runs on every request Slack sends."""
    row = (
        SlackWorkspace.objects.filter(team_id=team_id, is_active=True)
        .values_list("bot_user_id", "tenant__schema_name", "tenant__language")
        .first()
    )
    if row is None:
        return None
    return SlackTeamRoute(team_id=team_id, bot_user_id=row[0], schema_name=row[1], language=row[2])
