from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.core.selectors import tenant_schema_exists
from apps.integrations.bases.ticketing import TicketingError
from apps.integrations.jira.services import jira_connect


def _field_entry(entry: str) -> tuple[str, str]:
    name, sep, value = entry.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"--field takes NAME=VALUE (got {entry!r})")
    return name.strip(), value.strip()


class Command(BaseCommand):
    help = (
        "Connect a tenant to Jira (checked live with the e-mail and API token; the token is "
        "stored encrypted). Safe to run again: it updates the tenant's one connection."
    )

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Tenant schema name")
        parser.add_argument("--url", default=None, help="Jira site URL (default: JIRA_URL)")
        parser.add_argument("--email", default=None, help="Account e-mail (default: JIRA_EMAIL)")
        parser.add_argument(
            "--api-token", default=None, help="Atlassian API token (default: JIRA_API_TOKEN)"
        )
        parser.add_argument(
            "--project", default=None, help="Default project key (default: JIRA_PROJECT)"
        )
        parser.add_argument("--issue-type", default="Task", help="Default issue type (Task)")
        parser.add_argument(
            "--field",
            action="append",
            default=None,
            metavar="NAME=VALUE",
            help="A value for a field Jira requires, by name or id (Team=Payments); repeatable",
        )

    def handle(self, *args, schema, url, email, api_token, project, issue_type, field, **options):
        url = url if url is not None else settings.JIRA_URL
        email = email if email is not None else settings.JIRA_EMAIL
        api_token = api_token if api_token is not None else settings.JIRA_API_TOKEN
        project = project if project is not None else settings.JIRA_PROJECT
        if not url:
            raise CommandError("no Jira URL: pass --url or set JIRA_URL")
        if not email:
            raise CommandError("no Jira account e-mail: pass --email or set JIRA_EMAIL")
        if not api_token:
            raise CommandError("no Jira API token: pass --api-token or set JIRA_API_TOKEN")
        fields = dict(_field_entry(entry) for entry in field) if field is not None else None
        if not tenant_schema_exists(schema):
            raise CommandError(f"no tenant with schema {schema!r}")
        with schema_context(schema):
            try:
                result = jira_connect(
                    url=url,
                    email=email,
                    api_token=api_token,
                    project_key=project,
                    issue_type=issue_type,
                    fields=fields,
                )
            except TicketingError as exc:
                raise CommandError(" ".join(str(exc).split())) from exc
        jira = result.connection
        verb = "connected" if result.created else "already connected, updated"
        line = (
            f"Jira {verb} (tenant {schema!r}): {jira.server_title} as {jira.account_name}"
            + (f", project {jira.project_key} ({jira.issue_type})" if jira.project_key else "")
            + "."
        )
        if result.missing_fields:
            names = ", ".join(f'"{f.name}"' for f in result.missing_fields)
            example = result.missing_fields[0].name
            line += (
                f" Jira requires {names} for {jira.issue_type} in {jira.project_key}, not mapped"
                f' yet: creates will be refused until you add --field "{example}=VALUE".'
            )
        self.stdout.write(line)
