"""Every tool Jamono ships, by its public name. The names and parameters are a contract
(agents' YAML, docs/tool-calling.md, tests): add, never rename."""

from __future__ import annotations

from apps.tools.builtin import postmortem, probes, tickets
from apps.tools.models import Risk
from apps.tools.registry import Integration, Tool

ALL_AGENTS = frozenset({"nox", "atlas", "cirrus"})
JIRA_KEY = {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{0,19}-[0-9]{1,9}$"}
SHORT_NAME = {"type": "string", "minLength": 1, "maxLength": 60}
HOST = {"type": "string", "minLength": 1, "maxLength": 253, "pattern": "^[^\\s/:@]+$"}


def _object(properties: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in [
        Tool(
            name="jira_create_issue",
            description=(
                "Create a Jira issue (an incident, a task) and get its key and URL. "
                "Use once per problem; do not create it again to change it."
            ),
            parameters=_object(
                {
                    "summary": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": {"type": "string", "maxLength": 20000},
                    "project": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{0,19}$"},
                    "issue_type": SHORT_NAME,
                    "priority": SHORT_NAME,
                },
                ["summary", "description"],
            ),
            risk=Risk.WRITE,
            run=tickets.jira_create_issue,
            integration=Integration.TICKETING,
            agents=ALL_AGENTS,
            keep_undone=tickets.jira_create_issue_keep,
        ),
        Tool(
            name="jira_add_comment",
            description="Add a comment to an existing Jira issue.",
            parameters=_object(
                {"key": JIRA_KEY, "body": {"type": "string", "minLength": 1, "maxLength": 20000}},
                ["key", "body"],
            ),
            risk=Risk.WRITE,
            run=tickets.jira_add_comment,
            integration=Integration.TICKETING,
            agents=ALL_AGENTS,
        ),
        Tool(
            name="jira_transition_issue",
            description="Move a Jira issue to another status, by the status name (e.g. Done).",
            parameters=_object({"key": JIRA_KEY, "status": SHORT_NAME}, ["key", "status"]),
            risk=Risk.WRITE,
            run=tickets.jira_transition_issue,
            integration=Integration.TICKETING,
            agents=ALL_AGENTS,
        ),
        Tool(
            name="jira_search_issues",
            description="Search Jira issues with JQL; returns keys, summaries and statuses.",
            parameters=_object(
                {
                    "jql": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "max_results": {"type": "integer", "minimum": 1, "maximum": 50},
                },
                ["jql"],
            ),
            risk=Risk.READ,
            run=tickets.jira_search_issues,
            integration=Integration.TICKETING,
            agents=ALL_AGENTS,
        ),
        Tool(
            name="postmortem_schedule",
            description=(
                "Schedule (or reschedule) the post-mortem meeting of this thread: an "
                "invitation to the thread's participants and those named. `start` is the "
                "requester's local date-time, e.g. 2026-03-05T14:00."
            ),
            parameters=_object(
                {
                    "title": {"type": "string", "minLength": 1, "maxLength": 200},
                    "start": {
                        "type": "string",
                        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}",
                        "maxLength": 40,
                    },
                    "duration_minutes": {"type": "integer", "minimum": 15, "maximum": 480},
                    "attendees": {
                        "type": "array",
                        "items": {"type": "string", "format": "email", "maxLength": 254},
                        "maxItems": 50,
                    },
                    "jira_key": JIRA_KEY,
                },
                ["title", "start"],
            ),
            risk=Risk.WRITE,
            run=postmortem.postmortem_schedule,
            integration=Integration.CHAT,
            agents=ALL_AGENTS,
        ),
        Tool(
            name="http_probe",
            description=(
                "Request a URL (GET) on an allow-listed host and report status, timing and "
                "the start of the body."
            ),
            parameters=_object(
                {"url": {"type": "string", "pattern": "^https?://", "maxLength": 2000}}, ["url"]
            ),
            risk=Risk.READ,
            run=probes.http_probe,
            agents=ALL_AGENTS,
        ),
        Tool(
            name="dns_lookup",
            description="Look up DNS records of a name (A by default).",
            parameters=_object(
                {
                    "name": HOST,
                    "type": {
                        "type": "string",
                        "enum": [
                            "A",
                            "AAAA",
                            "CNAME",
                            "MX",
                            "TXT",
                            "NS",
                            "SOA",
                            "CAA",
                            "SRV",
                            "PTR",
                        ],
                    },
                },
                ["name"],
            ),
            risk=Risk.READ,
            run=probes.dns_lookup,
            agents=ALL_AGENTS,
        ),
        Tool(
            name="tls_certificate_check",
            description=(
                "Check the TLS certificate of an allow-listed host: days to expiry, issuer, "
                "names it covers, whether it verifies."
            ),
            parameters=_object(
                {"host": HOST, "port": {"type": "integer", "minimum": 1, "maximum": 65535}},
                ["host"],
            ),
            risk=Risk.READ,
            run=probes.tls_certificate_check,
            agents=ALL_AGENTS,
        ),
    ]
}
