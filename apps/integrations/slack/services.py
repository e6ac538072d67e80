"""Connecting Slack workspaces to tenants, and disconnecting them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from apps.integrations.slack.credentials import (
    bot_token_problem,
    bot_user_id_problem,
    team_id_problem,
)
from apps.integrations.slack.models import SlackWorkspace
from apps.tenants.selectors import tenant_get_by_schema

logger = logging.getLogger(__name__)


class WorkspaceValidationError(ValueError):
    """The input cannot connect a workspace; the message says why in one line (never the
    token itself)."""


@dataclass(frozen=True)
class WorkspaceResult:
    workspace: SlackWorkspace
    created: bool


def slack_credentials_validate(*, team_id: str, bot_token: str, bot_user_id: str) -> None:
    problem = (
        team_id_problem(team_id) or bot_token_problem(bot_token) or bot_user_id_problem(bot_user_id)
    )
    if problem:
        raise WorkspaceValidationError(problem)


@transaction.atomic
def slack_workspace_connect(
    *,
    schema_name: str,
    team_id: str,
    bot_token: str,
    bot_user_id: str,
    team_name: str = "",
) -> WorkspaceResult:
    """Bind a Slack team to a tenant with its bot credentials. Idempotent.

    Re-connecting the same team to the same tenant updates the credentials (a reinstall);
    a team already bound to another tenant is refused, so one Slack team never reaches two
    tenants' data.
    """
    team_id, bot_user_id, bot_token = team_id.strip(), bot_user_id.strip(), bot_token.strip()
    slack_credentials_validate(team_id=team_id, bot_token=bot_token, bot_user_id=bot_user_id)
    tenant = tenant_get_by_schema(schema_name=schema_name)
    if tenant is None or tenant.schema_name == "public":
        raise WorkspaceValidationError(f"no tenant with schema {schema_name!r}")

    workspace = SlackWorkspace.objects.select_for_update().filter(team_id=team_id).first()
    if workspace and workspace.tenant_id != tenant.pk:
        raise WorkspaceValidationError(
            f"Slack team {team_id} is already connected to another tenant"
        )
    created = workspace is None
    workspace = workspace or SlackWorkspace(team_id=team_id, tenant=tenant)
    workspace.bot_user_id = bot_user_id
    workspace.bot_token = bot_token
    workspace.is_active = True
    if team_name:
        workspace.team_name = team_name.strip()
    workspace.save()
    return WorkspaceResult(workspace=workspace, created=created)


def slack_workspace_disconnect(*, team_id: str, reason: str) -> bool:
    """Slack says the app is gone from a team (uninstalled, or its bot token revoked).

    The token is erased (it no longer works, and a dead secret is still a secret) and the team
    stops being routed: its later requests are acknowledged and dropped, and questions already
    stored fail with a clear reason instead of calling Slack with a revoked token. Installing
    again (OAuth or ``connect_slack``) brings the workspace back. Returns whether one changed.
    """
    with transaction.atomic():
        workspace = (
            SlackWorkspace.objects.select_for_update()
            .filter(team_id=team_id, is_active=True)
            .first()
        )
        if workspace is None:
            return False
        workspace.is_active = False
        workspace.bot_token = ""
        workspace.save(update_fields=["is_active", "bot_token", "updated_at"])
    logger.info("Slack workspace %s disconnected (%s)", team_id, reason)
    return True
