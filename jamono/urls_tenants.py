"""URLs served on a tenant's own domain (its admin, dashboard and API)."""

from django.urls import include, path
from django.views.generic import RedirectView

from apps.agents.views import agent_settings, agent_settings_change
from apps.api.pages import api_key_revoke_page, api_keys
from apps.core.admin_sites import tenant_admin_site
from apps.integrations.jira.views import jira_setup
from apps.integrations.slack.setup_views import slack_setup
from apps.knowledge.views import knowledge_document, knowledge_documents

urlpatterns = [
    # The dashboard comes with the web front door (issue 15); the admin until then.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", tenant_admin_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("setup/slack/", slack_setup, name="slack-setup"),
    path("setup/", include("apps.onboarding.setup_urls")),
    path("setup/jira/", jira_setup, name="jira-setup"),
    path("agents/", agent_settings, name="agent-settings"),
    path("agents/<slug:slug>/", agent_settings_change, name="agent-settings-change"),
    path("api/v1/", include("apps.api.urls")),
    path("api-keys/", api_keys, name="api-keys"),
    path("api-keys/<str:prefix>/revoke/", api_key_revoke_page, name="api-key-revoke"),
    path("knowledge/", knowledge_documents, name="knowledge-documents"),
    path("knowledge/<int:pk>/", knowledge_document, name="knowledge-document"),
]

# Under /api/, Django's own errors are problems (application/problem+json) too.
handler400 = "apps.api.errors.problem_bad_request"
handler403 = "apps.api.errors.problem_permission_denied"
handler404 = "apps.api.errors.problem_not_found"
handler500 = "apps.api.errors.problem_server_error"
