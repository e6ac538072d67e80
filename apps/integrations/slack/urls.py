"""Slack install pages, mounted under ``/slack/`` on the public schema."""

from django.urls import path

from apps.integrations.slack import install_views as views

app_name = "workspaces"

urlpatterns = [
    path("install", views.slack_install, name="slack_install"),
    path("oauth_redirect", views.slack_oauth_redirect, name="slack_oauth_redirect"),
]
