from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "apps.workspaces"
    label = "workspaces"
    verbose_name = "Slack workspaces"

    def ready(self) -> None:
        from apps.workspaces import signals  # noqa: F401 - connects the receivers
