from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from apps.integrations.slack.models import SlackWorkspace


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


# team_id -> (expires_at, route). Per process: Slack sends events in bursts, and the ack path
# should not spend a database round trip per event re-reading a row that almost never changes.
# Writes in this process clear it (signals.py); other processes see a change within the TTL.
_route_cache: dict[str, tuple[float, SlackTeamRoute]] = {}
_ROUTE_CACHE_MAX_ENTRIES = 10_000


def slack_team_route_cached(*, team_id: str) -> SlackTeamRoute | None:
    """``slack_team_route`` behind a short per-process cache (``SLACK_ROUTE_CACHE_S``).

    Unknown teams are never cached, so a workspace installed a second ago is routed at once.
    """
    ttl = settings.SLACK_ROUTE_CACHE_S
    now = time.monotonic()
    cached = _route_cache.get(team_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    route = slack_team_route(team_id=team_id)
    if route is None or ttl <= 0:
        _route_cache.pop(team_id, None)
        return route
    if len(_route_cache) >= _ROUTE_CACHE_MAX_ENTRIES:
        _route_cache.clear()
    _route_cache[team_id] = (now + ttl, route)
    return route


def slack_team_route_cache_clear() -> None:
    _route_cache.clear()


def slack_workspaces_connected(*, schema_name: str) -> list[SlackWorkspace]:
    """The Slack workspaces a company has connected and not uninstalled, by name."""
    return list(
        SlackWorkspace.objects.filter(tenant__schema_name=schema_name, is_active=True).order_by(
            "team_name"
        )
    )
