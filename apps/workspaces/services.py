"""Connecting Slack workspaces to tenants."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from apps.tenants.selectors import tenant_get_by_schema
from apps.workspaces.models import SlackWorkspace

# xoxb- bot tokens; "xoxe.xoxb-" are the rotating variant Slack issues with token rotation.
BOT_TOKEN_RE = re.compile(r"^(xoxe\.)?xoxb-[0-9]+-[0-9]+-[A-Za-z0-9]+$")
TEAM_ID_RE = re.compile(r"^[TE][A-Z0-9]{2,31}$")
USER_ID_RE = re.compile(r"^[UWB][A-Z0-9]{2,31}$")


class WorkspaceValidationError(ValueError):
    """The input cannot connect a workspace; the message says why in one line (never the
    token itself)."""


@dataclass(frozen=True)
class WorkspaceResult:
    workspace: SlackWorkspace
    created: bool


def slack_credentials_validate(*, team_id: str, bot_token: str, bot_user_id: str) -> None:
    if not TEAM_ID_RE.match(team_id or ""):
        raise WorkspaceValidationError(
            f"invalid Slack team ID {team_id!r}: expected T… or E… (uppercase letters and digits)"
        )
    if not BOT_TOKEN_RE.match(bot_token or ""):
        raise WorkspaceValidationError(
            "invalid bot token: expected a Slack bot token of the form xoxb-<digits>-<digits>-<…>"
        )
    if not USER_ID_RE.match(bot_user_id or ""):
        raise WorkspaceValidationError(
            f"invalid bot user ID {bot_user_id!r}: expected U… or W… (uppercase letters, digits)"
        )


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
