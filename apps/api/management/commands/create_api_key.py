"""manage.py create_api_key SCHEMA --name NAME [--read-only] [--rotate]: a company's API key,
printed once on its own line (only its hash is kept)."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.api.services import ApiKeyNameTaken, api_key_create
from apps.core.selectors import tenant_schema_exists


class Command(BaseCommand):
    help = (
        "Create an API key for a company (tenant schema). The key is printed once, alone on "
        "the last line: store it, it cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Tenant schema name")
        parser.add_argument("--name", required=True, help="What the key is for (unique)")
        parser.add_argument(
            "--read-only", action="store_true", help="The key may read (GET) and nothing else"
        )
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Revoke the usable keys of this name and make a new one",
        )

    def handle(self, *args, schema, name, read_only=False, rotate=False, **options):
        if not tenant_schema_exists(schema):
            raise CommandError(f"no tenant with schema {schema!r}")
        name = name.strip()
        if not name or len(name) > 50:
            raise CommandError("the name must be 1 to 50 characters")
        with schema_context(schema):
            try:
                _api_key, key = api_key_create(name=name, read_only=read_only, rotate=rotate)
            except ApiKeyNameTaken:
                raise CommandError(
                    f"a key named {name!r} exists; revoke it in the admin, or pass --rotate"
                ) from None
        self.stdout.write(key)
