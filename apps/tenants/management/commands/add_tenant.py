from django.core.management.base import BaseCommand, CommandError

from apps.tenants.services import TenantValidationError, tenant_create


class Command(BaseCommand):
    help = "Create a tenant (schema, domain, starter agents). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("schema", help="PostgreSQL schema name, e.g. acme")
        parser.add_argument("--name", required=True, help="Company name shown to people")
        parser.add_argument(
            "--domain", help="Host name of the tenant site (default SCHEMA.localhost)"
        )

    def handle(self, *args, schema, name, domain=None, language=None, **options):
        try:
            result = tenant_create(schema_name=schema, name=name, domain=domain, language=language)
        except TenantValidationError as exc:
            raise CommandError(str(exc)) from exc
        verb = "created" if result.created else "already exists, updated"
        self.stdout.write(f"Tenant {result.tenant.schema_name!r} {verb}.")
