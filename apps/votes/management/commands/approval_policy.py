import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.core.selectors import tenant_schema_exists
from apps.tools.catalog import TOOLS
from apps.tools.models import Risk
from apps.votes import rules
from apps.votes.services import PolicyError, approval_policy_set

DURATION_RE = re.compile(r"^([1-9][0-9]{0,5})([smhd])$")
DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_EXPIRES_IN = timedelta(days=30)


def duration_parse(text: str) -> timedelta:
    """``30m``, ``2h``, ``1d``, ``90s``."""
    match = DURATION_RE.match(text.strip())
    if not match:
        raise CommandError(f"--expires-in takes a number and s, m, h or d (like 30m), not {text!r}")
    duration = timedelta(**{DURATION_UNITS[match[2]]: int(match[1])})
    if duration > MAX_EXPIRES_IN:
        raise CommandError("--expires-in is at most 30d")
    return duration


def voters_parse(text: str) -> list[str]:
    return [voter.strip() for voter in text.split(",") if voter.strip()]


def weights_parse(text: str) -> dict[str, int]:
    weights = {}
    for entry in voters_parse(text):
        voter, sep, weight = entry.partition("=")
        if not sep or not weight.strip().isdigit():
            raise CommandError(f"--weights takes USER=NUMBER pairs (like U1=2), not {entry!r}")
        weights[voter.strip()] = int(weight)
    return weights


class Command(BaseCommand):
    help = (
        "Set who must approve a tool (or every tool of a risk level: read, write, dangerous) "
        "before it runs, and how they decide. Safe to run again: it replaces that policy."
    )

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Tenant schema name")
        parser.add_argument("tool", help="A tool name (jira_transition_issue) or a risk level")
        parser.add_argument("--rule", required=True, help=", ".join(rules.RULES))
        parser.add_argument(
            "--voters", default="", help="Chat user ids, comma-separated (default: the thread)"
        )
        parser.add_argument(
            "--group", default="", help="A user group id (S…) whose members vote as well"
        )
        parser.add_argument("--weights", default="", help="USER=NUMBER,… (weighted rule)")
        parser.add_argument("--quorum", type=int, default=0, help="Ballots needed to pass")
        parser.add_argument("--expires-in", default="30m", help="30m, 2h, 1d… (default 30m)")
        parser.add_argument(
            "--ask-advisors",
            action="store_true",
            help="Ask ATLAS and CIRRUS for an advisory vote (a model call each) as a vote opens",
        )
        parser.add_argument(
            "--counts-advisory",
            action="store_true",
            help="Count ATLAS's and CIRRUS's advisory votes (else they are only shown)",
        )

    def handle(self, *args, schema, tool, rule, voters, weights, quorum, expires_in, **options):
        if tool not in TOOLS and tool not in Risk.values:
            raise CommandError(
                f"unknown tool {tool!r}: a tool name or one of {', '.join(Risk.values)}"
            )
        expires = duration_parse(expires_in)
        if not tenant_schema_exists(schema):
            raise CommandError(f"no tenant with schema {schema!r}")
        with schema_context(schema):
            try:
                policy, created = approval_policy_set(
                    target=tool,
                    rule=rule,
                    voters=voters_parse(voters),
                    weights=weights_parse(weights),
                    quorum=quorum,
                    expires_in=expires,
                    counts_advisory=options["counts_advisory"],
                    user_group=options["group"].strip(),
                    asks_advisors=options["ask_advisors"],
                )
            except PolicyError as exc:
                raise CommandError(str(exc)) from exc
        verb = "created" if created else "updated"
        self.stdout.write(f"Approval policy {verb} for {schema}: {policy}")
