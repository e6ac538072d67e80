"""Installing Jamono into a Slack workspace through "Add to Slack" (OAuth v2): invites, the
single-use OAuth state, the code exchange, and storing the bot for its tenant."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from apps.integrations.slack.models import (
    SlackInstallInviteUse,
    SlackInstallState,
    SlackWorkspace,
)
from apps.integrations.slack.oauth import SlackBotInstall, SlackOAuthError, slack_oauth_access
from apps.integrations.slack.services import WorkspaceValidationError, slack_workspace_connect
from apps.tenants.models import Tenant
from apps.tenants.selectors import tenant_get_by_schema

logger = logging.getLogger(__name__)

INSTALL_STATE_TTL = timedelta(minutes=10)
# An invite is a bearer link: short-lived, and used up by the install it starts.
INSTALL_INVITE_MAX_AGE = timedelta(days=1)
# Kept from when this code lived in apps.workspaces: changing it would void the invites out there.
INSTALL_INVITE_SALT = "apps.workspaces.slack-install-invite"
# Slack error codes that mean "this code cannot be used", i.e. the person should start again.
_STALE_CODE_ERRORS = frozenset({"invalid_code", "code_already_used", "bad_redirect_uri"})


class SlackInstallError(Exception):
    """An install step was refused. ``reason`` names the step (the page says it in words),
    ``status`` is the HTTP status to answer, ``detail`` a safe code (e.g. Slack's error);
    none of them ever holds a token, a secret or a state."""

    def __init__(self, reason: str, *, status: int, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class SlackInstallResult:
    workspace: SlackWorkspace
    tenant: Tenant
    created: bool


def _install_state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def install_invite_hash(invite: str) -> str:
    return hashlib.sha256(invite.encode()).hexdigest()


def slack_install_invite_create(*, schema_name: str) -> str:
    """A signed invite token that lets whoever holds it install Slack for this tenant, once,
    within ``INSTALL_INVITE_MAX_AGE``. Stores nothing (the signature is the proof; its use is
    recorded when an install succeeds)."""
    tenant = tenant_get_by_schema(schema_name=schema_name)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        raise WorkspaceValidationError(f"no tenant with schema {schema_name!r}")
    return signing.dumps({"schema": tenant.schema_name}, salt=INSTALL_INVITE_SALT)


def slack_install_invite_tenant(*, invite: str) -> Tenant:
    """The tenant an invite was made for; ``SlackInstallError`` if forged, expired, used
    already or its tenant is gone."""
    try:
        payload = signing.loads(invite, salt=INSTALL_INVITE_SALT, max_age=INSTALL_INVITE_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        raise SlackInstallError("invite_invalid", status=403) from None
    schema_name = payload.get("schema") if isinstance(payload, dict) else None
    tenant = tenant_get_by_schema(schema_name=schema_name or "")
    if tenant is None or tenant.schema_name == get_public_schema_name():
        raise SlackInstallError("invite_invalid", status=403)
    if SlackInstallInviteUse.objects.filter(invite_hash=install_invite_hash(invite)).exists():
        raise SlackInstallError("invite_used", status=403)
    return tenant


def slack_install_state_create(*, tenant: Tenant, invite: str = "") -> str:
    """Start one install for ``tenant``: return a fresh random OAuth state (usable once, for
    ``INSTALL_STATE_TTL``). Only its hash is stored. Also drops states expired a day ago."""
    now = timezone.now()
    SlackInstallState.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    state = secrets.token_urlsafe(32)
    SlackInstallState.objects.create(
        state_hash=_install_state_hash(state),
        tenant=tenant,
        created_at=now,
        expires_at=now + INSTALL_STATE_TTL,
        invite_hash=install_invite_hash(invite) if invite else "",
    )
    return state


def slack_install_state_consume(*, state: str, browser_state: str | None) -> SlackInstallState:
    """Use up ``state`` and return it (with its tenant), if it is the one this browser was given
    (``browser_state``, from its cookie), is known, unexpired and not used before.

    Single use even under concurrent requests: one conditional UPDATE marks it consumed.
    """
    if not state or not browser_state or not hmac.compare_digest(state, browser_state):
        raise SlackInstallError("state_browser_mismatch", status=403)
    now = timezone.now()
    state_hash = _install_state_hash(state)
    consumed = SlackInstallState.objects.filter(
        state_hash=state_hash, consumed_at__isnull=True, expires_at__gt=now
    ).update(consumed_at=now)
    if consumed != 1:
        raise SlackInstallError("state_invalid", status=403)
    return SlackInstallState.objects.select_related("tenant").get(state_hash=state_hash)


def slack_install_complete(
    *, state: str, browser_state: str | None, code: str, redirect_uri: str
) -> SlackInstallResult:
    """Finish an install from Slack's redirect: use up the state, exchange ``code`` with Slack
    (oauth.v2.access), then store the bot credentials (encrypted) for the state's tenant.

    Reinstalling into the same tenant updates the credentials; a team bound to another tenant
    is refused (409) and nothing changes. The state is used up even if a later step fails.
    """
    if not code:
        raise SlackInstallError("code_missing", status=400)
    install_state = slack_install_state_consume(state=state, browser_state=browser_state)
    tenant = install_state.tenant
    try:
        install = slack_oauth_access(code=code, redirect_uri=redirect_uri)
    except SlackOAuthError as exc:
        status = 400 if exc.error in _STALE_CODE_ERRORS else 502
        raise SlackInstallError("slack_refused", status=status, detail=exc.error) from None
    result = _slack_install_save(
        tenant=tenant, install=install, invite_hash=install_state.invite_hash
    )
    logger.info(
        "Slack team %s installed for tenant %s (%s)",
        install.team_id,
        tenant.schema_name,
        "new" if result.created else "reinstall",
    )
    return result


def _slack_team_bound_elsewhere(*, team_id: str, tenant: Tenant) -> bool:
    return SlackWorkspace.objects.filter(team_id=team_id).exclude(tenant=tenant).exists()


@transaction.atomic
def _slack_install_save(
    *, tenant: Tenant, install: SlackBotInstall, invite_hash: str = ""
) -> SlackInstallResult:
    if _slack_team_bound_elsewhere(team_id=install.team_id, tenant=tenant):
        raise SlackInstallError("team_taken", status=409, detail=install.team_id)
    if invite_hash:
        _install_invite_use(invite_hash=invite_hash, tenant=tenant, team_id=install.team_id)
    try:
        result = slack_workspace_connect(
            schema_name=tenant.schema_name,
            team_id=install.team_id,
            bot_token=install.bot_token,
            bot_user_id=install.bot_user_id,
            team_name=install.team_name,
        )
    except WorkspaceValidationError as exc:
        # Lost a race with another install of the same team, or Slack sent odd ids.
        if _slack_team_bound_elsewhere(team_id=install.team_id, tenant=tenant):
            raise SlackInstallError("team_taken", status=409, detail=install.team_id) from None
        raise SlackInstallError("install_invalid", status=502, detail=str(exc)) from None
    workspace = result.workspace
    workspace.app_id = install.app_id
    workspace.scopes = install.scopes
    workspace.save(update_fields=["app_id", "scopes", "updated_at"])
    return SlackInstallResult(workspace=workspace, tenant=tenant, created=result.created)


def _install_invite_use(*, invite_hash: str, tenant: Tenant, team_id: str) -> None:
    """Use the invite up (in the install's transaction): two installs started from one invite
    cannot both succeed, the unique hash lets one through."""
    try:
        with transaction.atomic():
            SlackInstallInviteUse.objects.create(
                invite_hash=invite_hash, tenant=tenant, team_id=team_id
            )
    except IntegrityError:
        raise SlackInstallError("invite_used", status=403) from None


def slack_install_states_purge(*, now=None) -> int:
    """Delete install states that expired over a day ago (used or not): they can never be
    used again, and only recent ones help to understand a failed install. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = SlackInstallState.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def slack_install_tenant_for_staff(
    *, user: AbstractBaseUser | AnonymousUser, schema_name: str
) -> Tenant:
    """The tenant an operator (an active staff user of the public site) installs Slack for,
    without an invite."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise SlackInstallError("invite_missing", status=403)
    tenant = tenant_get_by_schema(schema_name=schema_name)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        raise SlackInstallError("tenant_not_found", status=404)
    return tenant


def slack_install_cancel(*, state: str, browser_state: str | None) -> None:
    """Slack says the person cancelled: use up the state so it cannot serve later. Does
    nothing if the state is not valid (there is nothing to protect then)."""
    with contextlib.suppress(SlackInstallError):
        slack_install_state_consume(state=state, browser_state=browser_state)
