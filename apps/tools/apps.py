from django.apps import AppConfig


class ToolsConfig(AppConfig):
    """What agents can do besides talking: the tool registry, the executor and the audit."""

    name = "apps.tools"
    label = "tools"
    verbose_name = "Agent tools"
