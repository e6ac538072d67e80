from django.apps import AppConfig


class JiraConfig(AppConfig):
    """A tenant's Jira connection (URL, account, encrypted API token, field mapping)."""

    name = "apps.integrations.jira"
    label = "jira_integration"
    verbose_name = "Jira"
