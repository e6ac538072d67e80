from django.apps import AppConfig


class SlackConfig(AppConfig):
    """Slack: workspaces and their install, inbound requests, outbound messages.

    The label stays "workspaces" (the app's first name): it names the tables and the
    migration history of the public schema, which must not change with a code move.
    """

    name = "apps.integrations.slack"
    label = "workspaces"
    verbose_name = "Slack workspaces"

    def ready(self) -> None:
        from apps.integrations.slack import signals  # noqa: F401 - connects the receivers
