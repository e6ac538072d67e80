"""URLs served on the public schema: the public site (landing, sign-up), Slack's endpoints and
the operators' admin."""

from django.contrib import admin
from django.urls import include, path

from apps.integrations.slack.views import SLACK_EVENTS_PATH, slack_events

urlpatterns = [
    path(SLACK_EVENTS_PATH.removeprefix("/"), slack_events, name="slack-events"),
    path("slack/", include("apps.integrations.slack.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("apps.onboarding.urls")),
]
