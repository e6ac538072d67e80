"""Jira behind the ticketing contract (``settings.TICKETING_BACKEND``).

``JiraTicketing()`` is the current tenant's Jira, built from its ``JiraConnection``; every
method raises the contract's errors (``TicketingUnavailable`` / ``TicketingRefused``), never
the library's, and no message holds the API token.

Exactly once: a create carries its idempotency key as a label (``jamono-`` and 20 hex digits
of its SHA-256) and first searches for it, so a caller that retries after a timeout or a 5xx
(the client itself never resends, see ``client.py``) gets the issue the first attempt made.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from jira import JIRA
from jira.exceptions import JIRAError

from apps.integrations.bases.ticketing import (
    MissingField,
    Ticketing,
    TicketingNotConnected,
    TicketingRefused,
    TicketingUnavailable,
    TicketRef,
    TicketSummary,
)
from apps.integrations.jira.client import (
    createmeta_field_id,
    createmeta_fields,
    createmeta_issue_types,
    field_name_from_required_message,
    jira_client,
    jira_error_fields,
    jira_errors_translated,
)
from apps.integrations.jira.models import JiraConnection
from apps.integrations.jira.selectors import jira_connected, jira_connection_get

logger = logging.getLogger(__name__)

IDEMPOTENCY_LABEL_PREFIX = "jamono-"
SUMMARY_MAX_CHARS = 255
SEARCH_MAX_RESULTS = 100
SEARCH_FIELDS = ["summary", "status", "assignee"]
# What a create always fills itself, so never "missing" in a dry run.
FIELDS_FILLED_BY_CREATE = frozenset(
    {"project", "issuetype", "summary", "description", "labels", "reporter"}
)


def idempotency_label(idempotency_key: str) -> str:
    """The label that marks the issue made for ``idempotency_key`` (Jira labels take no
    spaces; a hash keeps any key short and opaque)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"{IDEMPOTENCY_LABEL_PREFIX}{digest[:20]}"


def _jql_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted_names(names: list[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


class JiraTicketing(Ticketing):
    """The current tenant's Jira. ``TicketingNotConnected`` when the tenant has none."""

    @classmethod
    def connected(cls) -> bool:
        return jira_connected()

    def __init__(self, connection: JiraConnection | None = None) -> None:
        connection = connection or jira_connection_get()
        if connection is None:
            raise TicketingNotConnected(_("No Jira is connected for this workspace."))
        self.connection = connection
        credentials = {
            "url": connection.url,
            "email": connection.email,
            "api_token": connection.api_token,
        }
        self._client = jira_client(**credentials)
        # Search only: Jira Cloud's /rest/api/3/search/jql (see client.py).
        self._search_client = jira_client(**credentials, rest_api_version="3")

    def __repr__(self) -> str:
        return f"<JiraTicketing {self.connection!r}>"

    def _errors_translated(self):
        return jira_errors_translated(url=self.connection.url, secret=self.connection.api_token)

    def _url(self, key: str) -> str:
        return f"{self.connection.url}/browse/{key}"

    # --- create -------------------------------------------------------------------------------

    def issue_create(
        self,
        *,
        summary: str,
        description: str,
        idempotency_key: str,
        project: str | None = None,
        issue_type: str | None = None,
        priority: str | None = None,
    ) -> TicketRef:
        if not idempotency_key:
            raise ValueError("issue_create needs an idempotency_key")
        project = (project or self.connection.project_key or "").strip()
        if not project:
            raise TicketingRefused(
                _("No Jira project was named and the Jira connection has no default project.")
            )
        issue_type = (issue_type or self.connection.issue_type or "Task").strip()
        label = idempotency_label(idempotency_key)

        earlier = self._issue_find_by_label(label)
        if earlier is not None:
            logger.info("jira issue %s already made for this key, not creating again", earlier)
            return TicketRef(key=earlier, url=self._url(earlier), created=False)

        fields = self._create_fields(
            summary=summary,
            description=description,
            label=label,
            project=project,
            issue_type=issue_type,
            priority=priority,
        )
        try:
            with self._errors_translated():
                try:
                    issue = self._client.create_issue(fields=fields, prefetch=False)
                except JIRAError as exc:
                    if exc.status_code == 400 and jira_error_fields(exc):
                        raise self._create_refused(exc, project, issue_type) from None
                    raise
        except TicketingUnavailable:
            logger.warning("jira create in %s not confirmed; a retry will look for it", project)
            raise
        key = issue.key
        logger.info("jira issue %s created", key)
        return TicketRef(key=key, url=self._url(key), created=True)

    def _create_fields(
        self,
        *,
        summary: str,
        description: str,
        label: str,
        project: str,
        issue_type: str,
        priority: str | None,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = dict(self.connection.field_values or {})
        extra_labels = fields.pop("labels", None)
        labels = [label]
        if isinstance(extra_labels, list):
            labels += [str(extra) for extra in extra_labels if str(extra) != label]
        # Jira refuses a summary with line breaks or over 255 characters.
        summary = " ".join(summary.split())[:SUMMARY_MAX_CHARS]
        fields.update(
            {
                "project": {"key": project},
                "issuetype": {"name": issue_type},
                "summary": summary,
                "description": description,
                "labels": labels,
            }
        )
        if priority:
            fields["priority"] = {"name": priority}
        return fields

    def _create_refused(self, exc: JIRAError, project: str, issue_type: str) -> TicketingRefused:
        """A 400 that names fields: the required ones we left empty, in plain words."""
        errors = jira_error_fields(exc)
        missing: list[MissingField] = []
        other: list[str] = []
        for field_id, message in errors.items():
            plain = field_name_from_required_message(message)
            if plain and field_id not in FIELDS_FILLED_BY_CREATE:
                name = str((self.connection.field_names or {}).get(field_id) or plain)
                missing.append(MissingField(field_id=field_id, name=name))
            else:
                other.append(f"{field_id}: {' '.join(message.split())}")
        if missing:
            names = [field.name for field in missing]
            message = ngettext(
                "Jira requires the field %(fields)s for %(issue_type)s in %(project)s.",
                "Jira requires the fields %(fields)s for %(issue_type)s in %(project)s.",
                len(names),
            ) % {"fields": _quoted_names(names), "issue_type": issue_type, "project": project}
        else:
            message = _("Jira refused the issue: %(reasons)s") % {"reasons": "; ".join(other)}
        return TicketingRefused(message[:1000], missing_fields=tuple(missing))

    def _issue_find_by_label(self, label: str) -> str | None:
        with self._errors_translated():
            found = self._search_client.enhanced_search_issues(
                f"labels = {_jql_quoted(label)}", maxResults=1, fields=["summary"]
            )
        if found is None:
            # Never read as "not found": that would create the issue a second time.
            raise TicketingUnavailable(_("Jira did not answer the search; try again later."))
        return found[0].key if found else None

    # --- comment, transition, search ----------------------------------------------------------

    def comment_add(self, *, key: str, body: str) -> str:
        with self._errors_translated():
            comment = self._client.add_comment(key, body)
        return str(comment.id)

    def issue_transition(self, *, key: str, status: str) -> str:
        wanted = status.strip().casefold()
        with self._errors_translated():
            transitions = self._client.transitions(key)
        for transition in transitions:
            target = str((transition.get("to") or {}).get("name") or "")
            if target.casefold() == wanted:
                with self._errors_translated():
                    self._client.transition_issue(key, str(transition["id"]))
                return target
        with self._errors_translated():
            current = str(self._client.issue(key, fields="status").fields.status.name)
        if current.casefold() == wanted:
            return current  # already there (a retry after a lost answer, or asked twice)
        available = sorted({str((t.get("to") or {}).get("name") or "") for t in transitions} - {""})
        if not available:
            raise TicketingRefused(
                _(
                    "%(key)s cannot move to “%(status)s”: from “%(current)s” it cannot move "
                    "anywhere."
                )
                % {"key": key, "status": status, "current": current}
            )
        raise TicketingRefused(
            _(
                "%(key)s cannot move to “%(status)s”; from “%(current)s” it can move to: "
                "%(available)s."
            )
            % {
                "key": key,
                "status": status,
                "current": current,
                "available": _quoted_names(available),
            }
        )

    def issues_search(self, *, query: str, max_results: int) -> list[TicketSummary]:
        max_results = max(1, min(int(max_results or 1), SEARCH_MAX_RESULTS))
        with self._errors_translated():
            found = self._search_client.enhanced_search_issues(
                query, maxResults=max_results, fields=list(SEARCH_FIELDS)
            )
        if found is None:
            raise TicketingUnavailable(_("Jira did not answer the search; try again later."))
        summaries = []
        for issue in list(found)[:max_results]:
            fields = (issue.raw or {}).get("fields") or {}
            status = (fields.get("status") or {}).get("name") or ""
            assignee = (fields.get("assignee") or {}).get("displayName") or ""
            summaries.append(
                TicketSummary(
                    key=issue.key,
                    url=self._url(issue.key),
                    summary=str(fields.get("summary") or ""),
                    status=str(status),
                    assignee=str(assignee),
                )
            )
        return summaries

    # --- dry run ------------------------------------------------------------------------------

    def create_fields_missing(
        self, *, project: str | None = None, issue_type: str | None = None
    ) -> list[MissingField]:
        project = (project or self.connection.project_key or "").strip()
        if not project:
            raise TicketingRefused(
                _("No Jira project was named and the Jira connection has no default project.")
            )
        issue_type = (issue_type or self.connection.issue_type or "Task").strip()
        fields = create_meta_fields(
            self._client,
            project=project,
            issue_type=issue_type,
            url=self.connection.url,
            secret=self.connection.api_token,
        )
        return required_fields_unfilled(fields, self.connection.field_values or {})


def create_meta_fields(
    client: JIRA, *, project: str, issue_type: str, url: str, secret: str
) -> list[dict]:
    """The create screen of ``issue_type`` (by name, without case) in ``project``; refused,
    in plain words, when the project or the issue type does not exist."""
    with jira_errors_translated(url=url, secret=secret):
        try:
            issue_types = createmeta_issue_types(client, project)
        except JIRAError as exc:
            if exc.status_code in (400, 404):
                raise TicketingRefused(
                    _("Jira has no project %(project)s (or this account cannot see it).")
                    % {"project": project}
                ) from None
            raise
        wanted = issue_type.casefold()
        match = next((t for t in issue_types if str(t.get("name", "")).casefold() == wanted), None)
        if match is None:
            names = sorted(str(t.get("name", "")) for t in issue_types)
            raise TicketingRefused(
                _("Jira project %(project)s has no issue type “%(issue_type)s”; it has: %(names)s.")
                % {"project": project, "issue_type": issue_type, "names": _quoted_names(names)}
            )
        return createmeta_fields(client, project, str(match["id"]))


def required_fields_unfilled(fields: list[dict], field_values: dict) -> list[MissingField]:
    """Fields Jira requires, has no default for, and that a create would leave empty."""
    missing = []
    for field in fields:
        field_id = createmeta_field_id(field)
        if not field.get("required") or field.get("hasDefaultValue"):
            continue
        if field_id in FIELDS_FILLED_BY_CREATE or field_id in field_values:
            continue
        missing.append(MissingField(field_id=field_id, name=str(field.get("name") or field_id)))
    return missing
