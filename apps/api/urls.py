"""The REST API, mounted under ``/api/v1/`` on a company's own host.

To add a resource (issue 16's votes: ``votes/``, ``votes/<int:pk>/``), add its view module
under ``apps/api/views/`` and its paths here; the schema, the docs, errors, keys and throttling
follow by themselves.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.api.views import actions, agents, conversations, docs, knowledge, metrics, votes

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: Swagger UI's start-up script is a file of its own (the CSP forbids inline ones).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", docs.RedocView.as_view(url_name="api:schema"), name="redoc"),
    path("agents/", agents.AgentListView.as_view(), name="agent_list"),
    path("agents/<slug:slug>/", agents.AgentDetailView.as_view(), name="agent_detail"),
    path("agents/<slug:slug>/tools/", agents.AgentToolListView.as_view(), name="agent_tool_list"),
    path(
        "agents/<slug:slug>/tools/<str:tool>/",
        agents.AgentToolDetailView.as_view(),
        name="agent_tool_detail",
    ),
    path("tools/", agents.ToolListView.as_view(), name="tool_list"),
    path("conversations/", conversations.ConversationListView.as_view(), name="conversation_list"),
    path(
        "conversations/<int:pk>/",
        conversations.ConversationDetailView.as_view(),
        name="conversation_detail",
    ),
    path("messages/", conversations.MessageListView.as_view(), name="message_list"),
    path("messages/<int:pk>/", conversations.MessageDetailView.as_view(), name="message_detail"),
    path(
        "knowledge/documents/",
        knowledge.DocumentListUploadView.as_view(),
        name="document_list",
    ),
    path(
        "knowledge/documents/<int:pk>/",
        knowledge.DocumentDetailView.as_view(),
        name="document_detail",
    ),
    path(
        "knowledge/documents/<int:pk>/reindex/",
        knowledge.DocumentReindexView.as_view(),
        name="document_reindex",
    ),
    path("knowledge/search/", knowledge.KnowledgeSearchView.as_view(), name="knowledge_search"),
    path("actions/", actions.ActionListView.as_view(), name="action_list"),
    path("actions/<int:pk>/", actions.ActionDetailView.as_view(), name="action_detail"),
    path("votes/", votes.VoteListView.as_view(), name="vote_list"),
    path("votes/<int:pk>/", votes.VoteDetailView.as_view(), name="vote_detail"),
    path("metrics/", metrics.MetricsView.as_view(), name="metrics"),
]
