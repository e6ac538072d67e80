import contextlib
import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_bolt.adapter.django.handler import to_django_response
from slack_bolt.request import BoltRequest

from apps.integrations.slack.bolt_app import bolt_app_build
from apps.integrations.slack.inbound import (
    ROUTE_CONTEXT_KEY,
    SlackRequestError,
    slack_request_read,
    slack_route_for,
)

logger = logging.getLogger(__name__)

# Slack's Request URL for events, slash commands and interactivity (routed before most
# middleware: apps.integrations.slack.middleware.SlackEventsMiddleware).
SLACK_EVENTS_PATH = "/slack/events"


def _connection_release() -> None:
    """Give the database connection back to the pool now rather than after the response is
    flushed: under a burst of events the pool, not the database, is what requests wait for."""
    if not connection.in_atomic_block:
        connection.close()


def _language_for(inbound, route):
    """Commands and interactions answer people in the tenant's language; events are only
    stored and enqueued here (the worker that answers them activates the language)."""
    if inbound.kind == "event_callback":
        return contextlib.nullcontext()
    return translation.override(route.language)


@csrf_exempt
@require_POST
def slack_events(request):
    """Events, slash commands and interactivity on one URL (the Slack app's Request URL)."""
    try:
        inbound = slack_request_read(
            body=request.body,
            headers=request.headers,
            content_type=request.content_type,
            secret=settings.SLACK_SIGNING_SECRET,
        )
    except SlackRequestError as exc:
        logger.warning("Slack request refused (%s): %s", exc.status, exc.reason)
        return JsonResponse({"error": exc.reason}, status=exc.status)

    if inbound.kind == "url_verification":
        return JsonResponse({"challenge": str(inbound.payload.get("challenge", ""))})
    if inbound.kind == "ssl_check":
        return HttpResponse(status=200)

    route = slack_route_for(inbound)
    if route is None:
        # Acked so Slack does not retry; nothing is stored for a team no tenant owns.
        logger.warning("Slack %s for unknown team %s ignored", inbound.kind, inbound.team_id)
        return HttpResponse(status=200)

    connection.set_schema(route.schema_name)
    try:
        bolt_request = BoltRequest(
            # One owner verifies and parses a request: inbound.py, because the tenant must be
            # known before any listener runs, and a refusal must say why (401 signature, 403
            # replay, 413, 400). Bolt then only dispatches: it takes the parsed payload the way
            # it takes Socket Mode's (already authenticated, already parsed; slack_bolt 1.30).
            # Parsing again would also lose commands: Bolt's form parser reads any form with
            # "payload" in it ("/nox-help what payload limit?") as an empty interactivity
            # payload (tests/apps/integrations/slack/test_commands.py).
            body=inbound.payload,
            mode="socket_mode",
            query=request.META.get("QUERY_STRING", ""),
            headers=dict(request.headers),
            context={ROUTE_CONTEXT_KEY: route},
        )
        with _language_for(inbound, route):
            bolt_response = bolt_app_build(settings.SLACK_API_URL).dispatch(bolt_request)
    finally:
        connection.set_schema_to_public()
        _connection_release()
    if bolt_response.status == 404:
        # An event type no listener wants: acknowledge it, or Slack retries it for nothing.
        return HttpResponse(status=200)
    return to_django_response(bolt_response)
