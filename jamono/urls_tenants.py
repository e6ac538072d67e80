"""URLs served on a tenant's own domain (its admin, dashboard and API)."""

from django.urls import include, path

from apps.agents.views import agent_settings, agent_settings_change
from apps.api.pages import api_key_revoke_page, api_keys
from apps.conversations.views import conversation_detail, conversations, metrics
from apps.core.admin_sites import tenant_admin_site
from apps.dashboard.views import dashboard_home
from apps.integrations.jira.views import jira_setup
from apps.integrations.slack.setup_views import slack_setup
from apps.integrations.web.views import agent_chat
from apps.knowledge.views import (
    knowledge_document,
    knowledge_document_delete,
    knowledge_document_reindex,
    knowledge_document_row,
    knowledge_documents,
)
from apps.tools.views import actions
from apps.votes.views import vote_detail, votes

urlpatterns = [
    path("", dashboard_home, name="dashboard"),
    path("admin/", tenant_admin_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Login, logout, password reset, the team and invitations.
    path("", include("apps.accounts.urls")),
    path("setup/slack/", slack_setup, name="slack-setup"),
    path("setup/", include("apps.onboarding.setup_urls")),
    path("setup/jira/", jira_setup, name="jira-setup"),
    path("chat/<slug:slug>/", agent_chat, name="agent-chat"),
    path("agents/", agent_settings, name="agent-settings"),
    path("agents/<slug:slug>/", agent_settings_change, name="agent-settings-change"),
    path("api/v1/", include("apps.api.urls")),
    path("api-keys/", api_keys, name="api-keys"),
    path("api-keys/<str:prefix>/revoke/", api_key_revoke_page, name="api-key-revoke"),
    path("knowledge/", knowledge_documents, name="knowledge-documents"),
    path("knowledge/<int:pk>/", knowledge_document, name="knowledge-document"),
    path("knowledge/<int:pk>/row/", knowledge_document_row, name="knowledge-document-row"),
    path("knowledge/<int:pk>/delete/", knowledge_document_delete, name="knowledge-document-delete"),
    path(
        "knowledge/<int:pk>/reindex/",
        knowledge_document_reindex,
        name="knowledge-document-reindex",
    ),
    path("conversations/", conversations, name="conversations"),
    path("conversations/<int:pk>/", conversation_detail, name="conversation-detail"),
    path("actions/", actions, name="actions"),
    path("metrics/", metrics, name="metrics"),
    path("votes/", votes, name="votes"),
    path("votes/<int:pk>/", vote_detail, name="vote-detail"),
]

# Under /api/, Django's own errors are problems (application/problem+json) too.
handler400 = "apps.api.errors.problem_bad_request"
handler403 = "apps.api.errors.problem_permission_denied"
handler404 = "apps.api.errors.problem_not_found"
handler500 = "apps.api.errors.problem_server_error"
