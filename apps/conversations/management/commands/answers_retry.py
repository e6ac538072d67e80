from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.conversations.answering import AnswerError, answer_generate
from apps.conversations.models import Message
from apps.conversations.selectors import questions_waiting_for_answer
from apps.core.selectors import tenant_schema_exists, tenant_schema_names


class Command(BaseCommand):
    help = "Answer now the questions that wait for the language model (all tenants, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this tenant")

    def handle(self, *args, schema=None, **options):
        if schema and not tenant_schema_exists(schema):
            raise CommandError(f"no tenant with schema {schema!r}")
        for schema_name in [schema] if schema else tenant_schema_names():
            with schema_context(schema_name):
                waiting = list(questions_waiting_for_answer())
                answered = 0
                for index, question in enumerate(waiting, start=1):
                    self.stdout.write(f"\r{schema_name}: {index}/{len(waiting)}", ending="")
                    try:
                        answer = answer_generate(question_id=question.pk)
                    except AnswerError as exc:
                        self.stderr.write(f"\nquestion {question.pk}: {exc}")
                        continue
                    if answer is not None and answer.status == Message.Status.ANSWERED:
                        answered += 1
                self.stdout.write(
                    f"\r{schema_name}: {answered} of {len(waiting)} waiting question(s) answered"
                )
