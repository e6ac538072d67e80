"""URLs served on the public schema: operators' admin, health, and (later) Slack endpoints."""

from django.contrib import admin
from django.urls import include, path

from apps.integrations.slack.views import slack_events

urlpatterns = [
    path("slack/events", slack_events, name="slack-events"),
    path("slack/", include("apps.workspaces.urls")),
    path("admin/", admin.site.urls),
]
