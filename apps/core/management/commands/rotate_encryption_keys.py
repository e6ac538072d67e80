"""Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand

from apps.core.services import encrypted_fields_rotate


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the current (first) FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        counts = encrypted_fields_rotate()
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} value(s) re-encrypted")
