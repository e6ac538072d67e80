"""Connecting the tenant's Jira: a live check, the field mapping, one stored connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jira import JIRA
from jira.exceptions import JIRAError

from apps.core.tenant_tasks import enqueue_for_tenant
from apps.integrations.bases.ticketing import MissingField, TicketingRefused
from apps.integrations.jira.client import (
    JIRA_CLOUD,
    createmeta_field_id,
    jira_client,
    jira_errors_translated,
    jira_url_normalized,
)
from apps.integrations.jira.models import JiraConnection
from apps.integrations.jira.ticketing import create_meta_fields, required_fields_unfilled

# Named, not imported: apps.tools sits above the integrations (see .importlinter).
INCIDENTS_RETRY_TASK = "apps.tools.tasks.incidents_retry_task"


@dataclass(frozen=True)
class JiraConnectResult:
    connection: JiraConnection
    created: bool  # False: the tenant's connection was updated
    # Required fields of the default project/issue type that a create would still leave
    # empty (a warning: such creates will be refused until they are mapped with ``fields``).
    missing_fields: tuple[MissingField, ...] = ()


def jira_connect(
    *,
    url: str,
    email: str,
    api_token: str,
    project_key: str = "",
    issue_type: str = "Task",
    fields: dict[str, str] | None = None,
) -> JiraConnectResult:
    """Connect the current tenant (schema) to Jira, or update its connection. Idempotent.

    Checks live first (``serverInfo``, ``myself``; the project and its issue type when
    given) and stores nothing unless that passes: a wrong token is a ``TicketingRefused``, an
    unreachable Jira a ``TicketingUnavailable``, each with a one-line message without the
    token. ``fields`` (``{"Team": "Payments"}`` or ``{"customfield_10042": "Payments"}``) are
    resolved against the create screen of the project's issue type and stored in the shape
    Jira wants; ``None`` keeps the mapping already stored, ``{}`` clears it. Saving enqueues a
    retry of the incidents that waited for Jira.
    """
    url = jira_url_normalized(url)
    email = (email or "").strip()
    api_token = (api_token or "").strip()
    project_key = (project_key or "").strip()
    issue_type = (issue_type or "").strip() or "Task"
    if not email:
        raise TicketingRefused(_("The Jira account e-mail is empty."))
    if not api_token:
        raise TicketingRefused(_("The Jira API token is empty."))

    client = jira_client(url=url, email=email, api_token=api_token)
    try:
        with jira_errors_translated(url=url, secret=api_token):
            server = client.server_info()
            account = client.myself()
        if server.get("deploymentType") != JIRA_CLOUD:
            # Search goes through Cloud's /rest/api/3/search/jql, which Data Center lacks.
            raise TicketingRefused(
                _("Only Jira Cloud can be connected (this is Jira %(kind)s).")
                % {"kind": server.get("deploymentType") or _("of an unknown kind")}
            )
        meta_fields: list[dict] = []
        if project_key:
            project_key = _project_key_checked(client, project_key, url=url, secret=api_token)
            meta_fields = create_meta_fields(
                client, project=project_key, issue_type=issue_type, url=url, secret=api_token
            )
    finally:
        client.close()

    existing = JiraConnection.objects.first()
    if fields is None:
        field_values = dict(existing.field_values) if existing else {}
        field_names = dict(existing.field_names) if existing else {}
    else:
        if fields and not project_key:
            raise TicketingRefused(
                _("Fields can only be mapped for a project: name one with its key.")
            )
        field_values, field_names = _fields_resolved(
            fields, meta_fields, project_key=project_key, issue_type=issue_type
        )
    field_names.update({createmeta_field_id(f): str(f.get("name") or "") for f in meta_fields})
    missing = tuple(required_fields_unfilled(meta_fields, field_values))

    with transaction.atomic():
        saved, created = JiraConnection.objects.update_or_create(
            singleton=True,
            defaults={
                "url": url,
                "email": email,
                "api_token": api_token,
                "project_key": project_key,
                "issue_type": issue_type,
                "field_values": field_values,
                "field_names": field_names,
                "account_name": str(
                    account.get("displayName") or account.get("emailAddress") or email
                )[:200],
                "server_title": str(server.get("serverTitle") or url)[:200],
                "verified_at": timezone.now(),
            },
        )
        # Incidents kept while Jira was missing or refusing may go through now.
        enqueue_for_tenant(INCIDENTS_RETRY_TASK, schema_name=db_connection.schema_name)
    return JiraConnectResult(connection=saved, created=created, missing_fields=missing)


def jira_disconnect() -> bool:
    """Forget the current tenant's Jira connection (token included). Whether there was one."""
    deleted, _rows = JiraConnection.objects.all().delete()
    return deleted > 0


def _project_key_checked(client: JIRA, project_key: str, *, url: str, secret: str) -> str:
    """The project's key as Jira spells it; refused when Jira has no such project."""
    with jira_errors_translated(url=url, secret=secret):
        try:
            project = client.project(project_key)
        except JIRAError as exc:
            if exc.status_code == 404:
                raise TicketingRefused(
                    _("Jira has no project %(project)s (or this account cannot see it).")
                    % {"project": project_key}
                ) from None
            raise
    return str(project.key)


# --- the field mapping -----------------------------------------------------------------------


def _fields_resolved(
    fields: dict[str, str], meta_fields: list[dict], *, project_key: str, issue_type: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """``{"Team": "Payments"}`` → ``({"customfield_10042": {"value": "Payments"}},
    {"customfield_10042": "Team"})``, by the create screen's fields (``meta_fields``)."""
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    for given, raw_value in fields.items():
        field = _field_found(given, meta_fields, project_key=project_key, issue_type=issue_type)
        field_id = createmeta_field_id(field)
        name = str(field.get("name") or field_id)
        values[field_id] = _field_value_shaped(field, str(raw_value).strip(), name=name)
        names[field_id] = name
    return values, names


def _field_found(given: str, meta_fields: list[dict], *, project_key: str, issue_type: str):
    wanted = given.strip()
    by_id = [f for f in meta_fields if wanted in (f.get("fieldId"), f.get("key"))]
    if by_id:
        return by_id[0]
    by_name = [f for f in meta_fields if str(f.get("name", "")).casefold() == wanted.casefold()]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        ids = ", ".join(createmeta_field_id(f) for f in by_name)
        raise TicketingRefused(
            _("Several Jira fields are called “%(name)s” (%(ids)s): name the one you mean by id.")
            % {"name": wanted, "ids": ids}
        )
    raise TicketingRefused(
        _("Jira has no field “%(name)s” when creating a %(issue_type)s in %(project)s.")
        % {"name": wanted, "issue_type": issue_type, "project": project_key}
    )


def _allowed_value(field: dict, value: str, *, name: str, key: str) -> str:
    """``value`` spelt as one of the field's allowed values (matched without case)."""
    allowed = [str(a.get(key)) for a in field.get("allowedValues") or [] if a.get(key)]
    if not allowed:
        return value
    for candidate in allowed:
        if candidate.casefold() == value.casefold():
            return candidate
    raise TicketingRefused(
        _("“%(value)s” is not a value of the Jira field “%(name)s”; it takes: %(allowed)s.")
        % {"value": value, "name": name, "allowed": ", ".join(f"“{a}”" for a in allowed[:20])}
    )


def _field_value_shaped(field: dict, value: str, *, name: str) -> Any:
    """A value in the shape the field's type wants in a create (``schema.type``/``items``)."""
    schema = field.get("schema") or {}
    kind = schema.get("type")
    items = schema.get("items")
    if kind in ("option", "option-with-child"):
        return {"value": _allowed_value(field, value, name=name, key="value")}
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            raise TicketingRefused(
                _("The Jira field “%(name)s” takes a number (got “%(value)s”).")
                % {"name": name, "value": value}
            ) from None
    if kind == "user":
        return {"accountId": value}
    if kind in ("priority", "version", "component", "resolution"):
        return {"name": _allowed_value(field, value, name=name, key="name")}
    if kind == "array":
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if items == "option":
            return [{"value": _allowed_value(field, p, name=name, key="value")} for p in parts]
        if items in ("component", "version"):
            return [{"name": _allowed_value(field, p, name=name, key="name")} for p in parts]
        if items == "user":
            return [{"accountId": p} for p in parts]
        return parts
    return value
