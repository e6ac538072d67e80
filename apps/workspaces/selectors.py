from __future__ import annotations

from apps.workspaces.models import SlackWorkspace


def slack_workspace_get_by_team(*, team_id: str) -> SlackWorkspace | None:
    """The active workspace for a Slack team, with its tenant (public-schema lookup)."""
    return (
        SlackWorkspace.objects.select_related("tenant")
        .filter(team_id=team_id, is_active=True)
        .first()
    )
