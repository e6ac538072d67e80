from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from apps.integrations.slack.install import INSTALL_INVITE_MAX_AGE, slack_install_invite_create
from apps.integrations.slack.services import WorkspaceValidationError


class Command(BaseCommand):
    help = (
        'Print an "Add to Slack" link for a tenant\'s admin. It installs Slack for that tenant '
        f"only, once, within {INSTALL_INVITE_MAX_AGE.days} day(s)."
    )

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Tenant schema name")
        parser.add_argument(
            "--base-url",
            default="http://localhost:8000",
            help="Public URL of this Jamono server (default: http://localhost:8000)",
        )

    def handle(self, *args, schema: str, base_url: str, **options):
        try:
            invite = slack_install_invite_create(schema_name=schema)
        except WorkspaceValidationError as exc:
            raise CommandError(str(exc)) from exc
        path = reverse("workspaces:slack_install", urlconf="jamono.urls_public")
        self.stdout.write(f"{base_url.rstrip('/')}{path}?{urlencode({'invite': invite})}")
