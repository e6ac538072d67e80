from django.core.management.base import BaseCommand, CommandError

from apps.integrations.slack.services import WorkspaceValidationError, slack_workspace_connect


class Command(BaseCommand):
    help = "Connect a Slack workspace (team) to a tenant with its bot token. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Tenant schema name")
        parser.add_argument("--team-id", required=True, help="Slack team ID (T…)")
        parser.add_argument("--bot-token", required=True, help="Bot token (xoxb-…)")
        parser.add_argument("--bot-user-id", required=True, help="The bot's user ID (U…)")
        parser.add_argument("--team-name", default="", help="Workspace name shown in admin")

    def handle(self, *args, schema, team_id, bot_token, bot_user_id, team_name, **options):
        try:
            result = slack_workspace_connect(
                schema_name=schema,
                team_id=team_id,
                bot_token=bot_token,
                bot_user_id=bot_user_id,
                team_name=team_name,
            )
        except WorkspaceValidationError as exc:
            raise CommandError(str(exc)) from exc
        verb = "connected" if result.created else "already connected, credentials updated"
        self.stdout.write(f"Slack team {result.workspace.team_id} {verb} (tenant {schema!r}).")
