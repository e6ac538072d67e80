"""A protocol double of the Jira Cloud REST API, as the ``jira`` client library speaks it.

    double = JiraDouble()                      # project PAY with issue types Task, Bug, Incident
    client = JIRA(server=double.url, basic_auth=(double.email, double.api_token))
    double.require_field("customfield_10042", "Team", allowed=["Payments", "Search"])
    double.fail_after_create_next()            # the next create happens, its answer is a 503
    double.issues                              # [{"key": "PAY-1", "fields": {...}, ...}]
    double.requests_to("/rest/api/3/search/jql")

Endpoints, under ``/rest/api/2`` and ``/rest/api/3`` alike (bodies in v2's plain-text shape):
``GET serverInfo``, ``GET myself``, ``GET field``, ``GET project/{key}``,
``GET issue/createmeta/{project}/issuetypes[/{id}]`` (Cloud's page shape: ``issueTypes`` /
``fields`` with ``startAt``, ``maxResults``, ``total``), ``POST issue`` (201 ``{id, key,
self}``; 400 ``{"errorMessages": [], "errors": {field: message}}`` for a required field left
empty, an unknown field, an unknown project or issue type, a bad summary),
``GET issue/{key}``, ``GET|POST issue/{key}/comment``, ``GET|POST issue/{key}/transitions``
(204), ``GET|POST search/jql`` (``nextPageToken`` paging) and ``search`` → 410 Gone, as on
Cloud since 2025.

Every request needs HTTP basic auth with ``double.email`` / ``double.api_token``, otherwise
401 (``serverInfo`` alone answers anonymous requests, as Cloud does).

The search understands a small JQL: clauses ``field = value``, ``!=``, ``~`` (contains),
``in (a, b)``, ``not in (...)`` on ``labels``, ``project``, ``key``/``issuekey``, ``status``,
``issuetype``/``type``, ``summary``, ``text``; joined with ``AND`` / ``OR`` (``AND`` binds
tighter; no parentheses); ``ORDER BY`` is accepted and results are newest first. Anything else
is a 400 with an ``Error in the JQL Query`` message, as Jira answers a query it cannot parse;
an empty query is a 400 too (Cloud refuses unbounded searches on this endpoint).

Workflow: ``To Do`` → (21 "Start progress") → ``In Progress`` → (31 "Resolve") → ``Done``;
``In Progress`` → (11 "Stop progress") → ``To Do``; ``Done`` → (41 "Reopen") → ``To Do``.

Faults are scripted with the ``ProtocolDouble`` methods (``fail_next(1, status=503,
path="/rest/api/2/issue")`` answers before anything is created), plus
``fail_after_create_next()``: the issue is created, and the answer is a 503 (a create Jira did
whose answer the client never saw).
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.doubles.base import ProtocolDouble, RecordedRequest, Reply

DEFAULT_ISSUE_TYPES = ("Task", "Bug", "Incident")
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
STATUSES = {
    "To Do": {"id": "10000", "category": ("new", "To Do", "blue-gray", 2)},
    "In Progress": {"id": "3", "category": ("indeterminate", "In Progress", "yellow", 4)},
    "Done": {"id": "10001", "category": ("done", "Done", "green", 3)},
}
# status → [(transition id, transition name, target status)]
WORKFLOW = {
    "To Do": [("21", "Start progress", "In Progress")],
    "In Progress": [("31", "Resolve", "Done"), ("11", "Stop progress", "To Do")],
    "Done": [("41", "Reopen", "To Do")],
}
CUSTOM_FIELD_TYPES = {
    "option": ({"type": "option"}, "select"),
    "array": ({"type": "array", "items": "option"}, "multiselect"),
    "string": ({"type": "string"}, "textfield"),
    "number": ({"type": "number"}, "float"),
}
SEARCH_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ROUTE = re.compile(r"^/rest/api/(?:2|3|latest)/(?P<rest>.*)$")


def jira_errors(messages: list[str] | None = None, errors: dict | None = None) -> dict:
    return {"errorMessages": messages or [], "errors": errors or {}}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class CustomField:
    field_id: str
    name: str
    kind: str  # "option" | "array" (of options) | "string" | "number"
    allowed: list[str]
    # (project key, issue type name or None for every type) where a create must fill it.
    required_in: set[tuple[str, str | None]] = field(default_factory=set)

    def required_for(self, project: str, issue_type: str) -> bool:
        return (project, None) in self.required_in or (project, issue_type) in self.required_in


class JiraDouble(ProtocolDouble):
    def __init__(
        self,
        *,
        email: str = "jamono-bot@example.com",
        api_token: str = "ATATT3xFfGF0-double-token-0123456789abcdef",
        server_title: str = "Jamono Test Jira",
        account_name: str = "Jamono Bot",
    ) -> None:
        super().__init__()
        self.email = email
        self.api_token = api_token
        self.server_title = server_title
        self.account_name = account_name
        self.account_id = "5b10ac8d82e05b22cc7d4ef5"
        self.deployment_type = "Cloud"  # "Server" plays Jira Data Center's serverInfo
        self.projects: dict[str, dict[str, Any]] = {}
        self.custom_fields: dict[str, CustomField] = {}
        self._state = threading.RLock()
        self._issues: dict[str, dict[str, Any]] = {}  # key → issue, in creation order
        self._ids = itertools.count(10001)
        self._creates_then_fail = 0
        self._create_retry_after: int | None = None
        self.add_project("PAY", "Payments")

    # --- set-up and assertions --------------------------------------------------------------

    def add_project(
        self, key: str, name: str, *, issue_types: tuple[str, ...] = DEFAULT_ISSUE_TYPES
    ) -> None:
        with self._state:
            number = 10000 + len(self.projects)
            self.projects[key] = {
                "id": str(number),
                "key": key,
                "name": name,
                "issue_types": [
                    {"id": str(10001 + index), "name": type_name}
                    for index, type_name in enumerate(issue_types)
                ],
                "next_number": 1,
            }

    def add_field(
        self, field_id: str, name: str, *, kind: str = "option", allowed: list[str] | None = None
    ) -> CustomField:
        """A custom field on every create screen (optional unless ``require_field``)."""
        if kind not in CUSTOM_FIELD_TYPES:
            raise ValueError(f"kind must be one of {sorted(CUSTOM_FIELD_TYPES)}")
        with self._state:
            custom = self.custom_fields.get(field_id)
            if custom is None:
                custom = CustomField(field_id, name, kind, list(allowed or []))
                self.custom_fields[field_id] = custom
            return custom

    def require_field(
        self,
        field_id: str,
        name: str,
        *,
        kind: str = "option",
        allowed: list[str] | None = None,
        project: str = "PAY",
        issue_type: str | None = None,
    ) -> None:
        """Make a create in ``project`` (of ``issue_type``, or of any type) require this field:
        createmeta lists it required, and a create without it is a 400 naming it."""
        if kind in ("option", "array") and allowed is None:
            allowed = ["Payments", "Search", "Platform"]
        with self._state:
            self.add_field(field_id, name, kind=kind, allowed=allowed).required_in.add(
                (project, issue_type)
            )

    def fail_after_create_next(self, count: int = 1, *, retry_after: int | None = None) -> None:
        """The next ``count`` creates make their issue, then answer 503 (the answer is lost),
        with a ``Retry-After`` header when given (which the ``jira`` client's own retry
        honours)."""
        with self._state:
            self._creates_then_fail += count
            self._create_retry_after = retry_after

    @property
    def issues(self) -> list[dict[str, Any]]:
        """Every issue, oldest first: ``{"id", "key", "fields": {...}, "comments": [...]}``."""
        with self._state:
            return copy.deepcopy(list(self._issues.values()))

    def issue(self, key: str) -> dict[str, Any]:
        with self._state:
            return copy.deepcopy(self._issues[key])

    def issue_status_set(self, key: str, status: str) -> None:
        with self._state:
            self._issues[key]["fields"]["status"] = self._status(status)

    # --- routing ----------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        match = ROUTE.match(request.path)
        if match is None:
            return self._not_found(request)
        rest = match.group("rest").rstrip("/")
        parts = rest.split("/")
        method = request.method
        if (method, rest) == ("GET", "serverInfo") and "authorization" not in request.headers:
            return Reply.json(self._server_info())
        if not self._authenticated(request):
            return Reply.json(
                jira_errors(["Client must be authenticated to access this resource."]),
                status=401,
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
            )
        with self._state:
            return self._route(request, method, parts) or self._not_found(request)

    def _route(self, request: RecordedRequest, method: str, parts: list[str]) -> Reply | None:
        match parts:
            case ["serverInfo"] if method == "GET":
                return Reply.json(self._server_info())
            case ["myself"] if method == "GET":
                return Reply.json(self._myself())
            case ["field"] if method == "GET":
                return Reply.json(self._fields())
            case ["project", key] if method == "GET":
                return self._project_get(key)
            case ["search"]:
                return Reply.json(jira_errors([SEARCH_GONE]), status=410)
            case ["search", "jql"] if method in ("GET", "POST"):
                return self._search(request)
            case ["issue", "createmeta", project, "issuetypes"] if method == "GET":
                return self._createmeta_issue_types(request, project)
            case ["issue", "createmeta", project, "issuetypes", type_id] if method == "GET":
                return self._createmeta_fields(request, project, type_id)
            case ["issue"] if method == "POST":
                return self._issue_create(request)
            case ["issue", key] if method == "GET":
                return self._issue_get(request, key)
            case ["issue", key, "comment"] if method == "POST":
                return self._comment_add(request, key)
            case ["issue", key, "comment"] if method == "GET":
                return self._comments_get(key)
            case ["issue", key, "transitions"] if method == "GET":
                return self._transitions_get(key)
            case ["issue", key, "transitions"] if method == "POST":
                return self._transition_do(request, key)
        return None

    def _authenticated(self, request: RecordedRequest) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded).decode()
        except ValueError:
            return False
        return decoded == f"{self.email}:{self.api_token}"

    def _not_found(self, request: RecordedRequest) -> Reply:
        return Reply.json(jira_errors([f"null for uri: {self.url}{request.path}"]), status=404)

    # --- server, account, fields, projects --------------------------------------------------

    def _server_info(self) -> dict:
        return {
            "baseUrl": self.url,
            "displayUrl": self.url,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": self.deployment_type,
            "buildNumber": 100290,
            "buildDate": "2025-06-02T00:00:00.000+0000",
            "serverTime": _now(),
            "scmInfo": "0123456789abcdef0123456789abcdef01234567",
            "serverTitle": self.server_title,
            "defaultLocale": {"locale": "en_US"},
            "serverTimeZone": "Etc/UTC",
        }

    def _user(self) -> dict:
        return {
            "self": f"{self.url}/rest/api/2/user?accountId={self.account_id}",
            "accountId": self.account_id,
            "accountType": "atlassian",
            "displayName": self.account_name,
            "active": True,
        }

    def _myself(self) -> dict:
        return {
            **self._user(),
            "emailAddress": self.email,
            "timeZone": "Europe/Paris",
            "locale": "en_US",
            "groups": {"size": 1, "items": []},
            "applicationRoles": {"size": 1, "items": []},
        }

    def _system_fields(self) -> list[dict]:
        def system(field_id, name, schema, **extra):
            return {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [field_id],
                "schema": {**schema, "system": field_id},
                **extra,
            }

        return [
            system("summary", "Summary", {"type": "string"}),
            system("description", "Description", {"type": "string"}),
            system("issuetype", "Issue Type", {"type": "issuetype"}),
            system("project", "Project", {"type": "project"}),
            system("reporter", "Reporter", {"type": "user"}),
            system("assignee", "Assignee", {"type": "user"}),
            system("priority", "Priority", {"type": "priority"}),
            system("labels", "Labels", {"type": "array", "items": "string"}),
            system("status", "Status", {"type": "status"}),
        ]

    def _custom_schema(self, custom: CustomField) -> dict:
        schema, plugin = CUSTOM_FIELD_TYPES[custom.kind]
        return {
            **schema,
            "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}",
            "customId": int(re.sub(r"\D", "", custom.field_id) or 0),
        }

    def _fields(self) -> list[dict]:
        customs = [
            {
                "id": custom.field_id,
                "key": custom.field_id,
                "name": custom.name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{self._custom_schema(custom)['customId']}]", custom.name],
                "schema": self._custom_schema(custom),
            }
            for custom in self.custom_fields.values()
        ]
        return self._system_fields() + customs

    def _project(self, key_or_id: str) -> dict | None:
        for project in self.projects.values():
            if key_or_id.upper() == project["key"].upper() or key_or_id == project["id"]:
                return project
        return None

    def _issue_type_json(self, issue_type: dict) -> dict:
        return {
            "self": f"{self.url}/rest/api/2/issuetype/{issue_type['id']}",
            "id": issue_type["id"],
            "name": issue_type["name"],
            "description": f"A {issue_type['name'].lower()}.",
            "iconUrl": f"{self.url}/images/icons/issuetypes/{issue_type['name'].lower()}.svg",
            "subtask": False,
        }

    def _project_json(self, project: dict) -> dict:
        return {
            "self": f"{self.url}/rest/api/2/project/{project['id']}",
            "id": project["id"],
            "key": project["key"],
            "name": project["name"],
            "projectTypeKey": "software",
            "simplified": False,
            "style": "classic",
        }

    def _project_get(self, key: str) -> Reply:
        project = self._project(key)
        if project is None:
            return Reply.json(
                jira_errors([f"No project could be found with key '{key}'."]), status=404
            )
        issue_types = [self._issue_type_json(t) for t in project["issue_types"]]
        return Reply.json({**self._project_json(project), "issueTypes": issue_types})

    # --- create metadata --------------------------------------------------------------------

    @staticmethod
    def _page(request: RecordedRequest, items: list, items_key: str) -> Reply:
        start = int((request.query.get("startAt") or ["0"])[0] or 0)
        size = int((request.query.get("maxResults") or ["50"])[0] or 50)
        return Reply.json(
            {
                "maxResults": size,
                "startAt": start,
                "total": len(items),
                items_key: items[start : start + size],
            }
        )

    def _createmeta_issue_types(self, request: RecordedRequest, key: str) -> Reply:
        project = self._project(key)
        if project is None:
            return Reply.json(
                jira_errors([f"No project could be found with key '{key}'."]), status=404
            )
        types = [self._issue_type_json(t) for t in project["issue_types"]]
        return self._page(request, types, "issueTypes")

    def _createmeta_fields(self, request: RecordedRequest, key: str, type_id: str) -> Reply:
        project = self._project(key)
        if project is None:
            return Reply.json(
                jira_errors([f"No project could be found with key '{key}'."]), status=404
            )
        issue_type = next((t for t in project["issue_types"] if t["id"] == type_id), None)
        if issue_type is None:
            return Reply.json(
                jira_errors([f"Issue type with id '{type_id}' does not exist."]), status=404
            )
        return self._page(request, self._create_screen(project, issue_type), "fields")

    def _create_screen(self, project: dict, issue_type: dict) -> list[dict]:
        def meta(field_id, name, schema, *, required, default=False, allowed=None):
            entry = {
                "required": required,
                "schema": schema,
                "name": name,
                "key": field_id,
                "fieldId": field_id,
                "hasDefaultValue": default,
                "operations": ["set"],
            }
            if allowed is not None:
                entry["allowedValues"] = allowed
            return entry

        screen = [
            meta("summary", "Summary", {"type": "string", "system": "summary"}, required=True),
            meta(
                "issuetype",
                "Issue Type",
                {"type": "issuetype", "system": "issuetype"},
                required=True,
                allowed=[self._issue_type_json(issue_type)],
            ),
            meta(
                "project",
                "Project",
                {"type": "project", "system": "project"},
                required=True,
                allowed=[self._project_json(project)],
            ),
            meta(
                "description",
                "Description",
                {"type": "string", "system": "description"},
                required=False,
            ),
            meta(
                "reporter",
                "Reporter",
                {"type": "user", "system": "reporter"},
                required=True,
                default=True,
            ),
            meta(
                "priority",
                "Priority",
                {"type": "priority", "system": "priority"},
                required=False,
                default=True,
                allowed=[{"name": name, "id": str(i + 1)} for i, name in enumerate(PRIORITIES)],
            ),
            meta(
                "labels",
                "Labels",
                {"type": "array", "items": "string", "system": "labels"},
                required=False,
            ),
        ]
        for custom in self.custom_fields.values():
            allowed = None
            if custom.kind in ("option", "array"):
                allowed = [
                    {
                        "self": f"{self.url}/rest/api/2/customFieldOption/{10100 + i}",
                        "value": value,
                        "id": str(10100 + i),
                    }
                    for i, value in enumerate(custom.allowed)
                ]
            screen.append(
                meta(
                    custom.field_id,
                    custom.name,
                    self._custom_schema(custom),
                    required=custom.required_for(project["key"], issue_type["name"]),
                    allowed=allowed,
                )
            )
        return screen

    # --- issues -----------------------------------------------------------------------------

    def _status(self, name: str) -> dict:
        status = STATUSES[name]
        key, category_name, color, category_id = status["category"]
        return {
            "self": f"{self.url}/rest/api/2/status/{status['id']}",
            "description": "",
            "name": name,
            "id": status["id"],
            "statusCategory": {
                "id": category_id,
                "key": key,
                "colorName": color,
                "name": category_name,
            },
        }

    def _issue_create(self, request: RecordedRequest) -> Reply:
        body = request.json if isinstance(request.json, dict) else {}
        fields = body.get("fields")
        if not isinstance(fields, dict):
            return Reply.json(
                jira_errors(["Can not deserialize instance of fields out of the request."]),
                status=400,
            )
        project = self._project_of(fields.get("project"))
        if project is None:
            return Reply.json(
                jira_errors(errors={"project": "valid project is required"}), status=400
            )
        issue_type = self._issue_type_of(project, fields.get("issuetype"))
        if issue_type is None:
            return Reply.json(
                jira_errors(errors={"issuetype": "valid issue type is required"}), status=400
            )
        errors = self._create_errors(fields, project, issue_type)
        if errors:
            return Reply.json(jira_errors(errors=errors), status=400)

        issue = self._issue_store(fields, project, issue_type)
        if self._creates_then_fail:
            self._creates_then_fail -= 1
            headers = {}
            if self._create_retry_after is not None:
                headers["Retry-After"] = str(self._create_retry_after)
            return Reply.json(jira_errors(["Service Unavailable"]), status=503, headers=headers)
        return Reply.json(
            {"id": issue["id"], "key": issue["key"], "self": issue["self"]}, status=201
        )

    def _project_of(self, value: Any) -> dict | None:
        if isinstance(value, dict):
            value = value.get("key") or value.get("id")
        return self._project(str(value)) if value else None

    @staticmethod
    def _issue_type_of(project: dict, value: Any) -> dict | None:
        if not isinstance(value, dict):
            return None
        for issue_type in project["issue_types"]:
            if value.get("id") == issue_type["id"] or value.get("name") == issue_type["name"]:
                return issue_type
        return None

    def _create_errors(self, fields: dict, project: dict, issue_type: dict) -> dict[str, str]:
        errors: dict[str, str] = {}
        known = {"summary", "description", "issuetype", "project", "reporter", "priority"}
        known |= {"labels", *self.custom_fields}
        for field_id in fields:
            if field_id not in known:
                errors[field_id] = (
                    f"Field '{field_id}' cannot be set. It is not on the appropriate screen, "
                    "or unknown."
                )
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif "\n" in summary or "\r" in summary:
            errors["summary"] = "The summary is invalid because it contains newline characters."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        priority = fields.get("priority")
        if priority is not None and (
            not isinstance(priority, dict) or priority.get("name") not in PRIORITIES
        ):
            errors["priority"] = "Specify a valid value for Priority"
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            errors["labels"] = "Labels must be a list of strings."
        elif bad := [label for label in labels if " " in label]:
            errors["labels"] = f"The label '{bad[0]}' contains spaces which is invalid."
        for custom in self.custom_fields.values():
            value = fields.get(custom.field_id)
            if value in (None, "", []):
                if custom.required_for(project["key"], issue_type["name"]):
                    errors[custom.field_id] = f"{custom.name} is required."
                continue
            if not self._custom_value_valid(custom, value):
                errors[custom.field_id] = f"Specify a valid value for {custom.name}"
        return errors

    @staticmethod
    def _custom_value_valid(custom: CustomField, value: Any) -> bool:
        def option_valid(option: Any) -> bool:
            return isinstance(option, dict) and option.get("value") in custom.allowed

        if custom.kind == "option":
            return option_valid(value)
        if custom.kind == "array":
            return isinstance(value, list) and all(option_valid(v) for v in value)
        if custom.kind == "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        return isinstance(value, str)

    def _issue_store(self, fields: dict, project: dict, issue_type: dict) -> dict:
        issue_id = str(next(self._ids))
        key = f"{project['key']}-{project['next_number']}"
        project["next_number"] += 1
        now = _now()
        stored = {
            **copy.deepcopy(fields),
            "project": self._project_json(project),
            "issuetype": self._issue_type_json(issue_type),
            "priority": {"name": (fields.get("priority") or {}).get("name") or "Medium"},
            "labels": list(fields.get("labels") or []),
            "description": fields.get("description"),
            "status": self._status("To Do"),
            "assignee": None,
            "reporter": self._user(),
            "created": now,
            "updated": now,
        }
        issue = {
            "id": issue_id,
            "key": key,
            "self": f"{self.url}/rest/api/2/issue/{issue_id}",
            "fields": stored,
            "comments": [],
        }
        self._issues[key] = issue
        return issue

    def _issue_find(self, key_or_id: str) -> dict | None:
        for issue in self._issues.values():
            if issue["key"].upper() == key_or_id.upper() or issue["id"] == key_or_id:
                return issue
        return None

    def _issue_missing(self) -> Reply:
        return Reply.json(
            jira_errors(["Issue does not exist or you do not have permission to see it."]),
            status=404,
        )

    def _issue_json(self, issue: dict, wanted: list[str] | None) -> dict:
        fields = {**issue["fields"], "comment": self._comments_page(issue)}
        if wanted is not None and not {"*all", "*navigable"} & set(wanted):
            fields = {name: value for name, value in fields.items() if name in wanted}
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog",
            "id": issue["id"],
            "self": issue["self"],
            "key": issue["key"],
            "fields": fields,
        }

    @staticmethod
    def _wanted_fields(values: list[str] | str | None) -> list[str] | None:
        if values is None:
            return None
        if isinstance(values, str):
            values = [values]
        wanted = [name.strip() for value in values for name in str(value).split(",")]
        return [name for name in wanted if name]

    def _issue_get(self, request: RecordedRequest, key: str) -> Reply:
        issue = self._issue_find(key)
        if issue is None:
            return self._issue_missing()
        return Reply.json(self._issue_json(issue, self._wanted_fields(request.query.get("fields"))))

    # --- comments ---------------------------------------------------------------------------

    def _comments_page(self, issue: dict) -> dict:
        comments = issue["comments"]
        return {
            "comments": comments,
            "maxResults": len(comments),
            "total": len(comments),
            "startAt": 0,
        }

    def _comments_get(self, key: str) -> Reply:
        issue = self._issue_find(key)
        if issue is None:
            return self._issue_missing()
        return Reply.json(self._comments_page(issue))

    def _comment_add(self, request: RecordedRequest, key: str) -> Reply:
        issue = self._issue_find(key)
        if issue is None:
            return self._issue_missing()
        body = (request.json or {}).get("body") if isinstance(request.json, dict) else None
        if not body:
            return Reply.json(
                jira_errors(errors={"comment": "Comment body can not be empty!"}), status=400
            )
        comment_id = str(next(self._ids))
        now = _now()
        comment = {
            "self": f"{issue['self']}/comment/{comment_id}",
            "id": comment_id,
            "author": self._user(),
            "body": body,
            "updateAuthor": self._user(),
            "created": now,
            "updated": now,
            "jsdPublic": True,
        }
        issue["comments"].append(comment)
        return Reply.json(comment, status=201)

    # --- transitions ------------------------------------------------------------------------

    def _transitions_of(self, issue: dict) -> list[dict]:
        current = issue["fields"]["status"]["name"]
        return [
            {
                "id": transition_id,
                "name": name,
                "to": self._status(target),
                "hasScreen": False,
                "isGlobal": False,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            for transition_id, name, target in WORKFLOW[current]
        ]

    def _transitions_get(self, key: str) -> Reply:
        issue = self._issue_find(key)
        if issue is None:
            return self._issue_missing()
        return Reply.json({"expand": "transitions", "transitions": self._transitions_of(issue)})

    def _transition_do(self, request: RecordedRequest, key: str) -> Reply:
        issue = self._issue_find(key)
        if issue is None:
            return self._issue_missing()
        body = request.json if isinstance(request.json, dict) else {}
        wanted = str((body.get("transition") or {}).get("id") or "")
        for transition in self._transitions_of(issue):
            if transition["id"] == wanted:
                issue["fields"]["status"] = transition["to"]
                issue["fields"]["updated"] = _now()
                return Reply(status=204)
        return Reply.json(
            jira_errors([f"Transition id '{wanted}' is not valid for this issue."]), status=400
        )

    # --- search -----------------------------------------------------------------------------

    def _search(self, request: RecordedRequest) -> Reply:
        if request.method == "POST":
            params = request.json if isinstance(request.json, dict) else {}
            jql = str(params.get("jql") or "")
            size = int(params.get("maxResults") or 50)
            token = str(params.get("nextPageToken") or "")
            wanted = self._wanted_fields(params.get("fields"))
        else:
            jql = (request.query.get("jql") or [""])[0]
            size = int((request.query.get("maxResults") or ["50"])[0] or 50)
            token = (request.query.get("nextPageToken") or [""])[0]
            wanted = self._wanted_fields(request.query.get("fields"))
        try:
            matches = jql_parse(jql)
        except JqlError as exc:
            return Reply.json(jira_errors([str(exc)]), status=400)
        found = [
            issue for issue in reversed(list(self._issues.values())) if jql_matches(matches, issue)
        ]
        start = int(token) if token.isdigit() else 0
        page = found[start : start + max(1, min(size, 5000))]
        end = start + len(page)
        reply: dict[str, Any] = {
            "issues": [self._search_hit(issue, wanted) for issue in page],
            "isLast": end >= len(found),
        }
        if end < len(found):
            reply["nextPageToken"] = str(end)
        return Reply.json(reply)

    def _search_hit(self, issue: dict, wanted: list[str] | None) -> dict:
        if not wanted:
            return {"id": issue["id"]}  # Cloud's enhanced search returns ids only by default
        return self._issue_json(issue, wanted)


# --- a small JQL --------------------------------------------------------------------------------


class JqlError(ValueError):
    pass


JQL_TOKEN = re.compile(
    r"""\s*(?:(?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|=|~|\(|\)|,)"""
    r"""|(?P<word>[^\s=!~(),"']+))"""
)
JQL_FIELDS = {
    "labels": "labels",
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "status": "status",
    "issuetype": "issuetype",
    "type": "issuetype",
    "summary": "summary",
    "text": "text",
}


@dataclass(frozen=True)
class JqlClause:
    field: str
    op: str  # "=", "!=", "~", "in", "not in"
    values: tuple[str, ...]


def _jql_tokens(jql: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    jql = jql.rstrip()
    while position < len(jql):
        match = JQL_TOKEN.match(jql, position)
        if match is None or match.end() == position:
            raise JqlError(f"Error in the JQL Query: The character at position {position} is odd.")
        position = match.end()
        if match.group("quoted"):
            text = match.group("quoted")[1:-1]
            tokens.append(("value", re.sub(r"\\(.)", r"\1", text)))
        elif match.group("op"):
            tokens.append(("op", match.group("op")))
        else:
            tokens.append(("word", match.group("word")))
    return tokens


def jql_parse(jql: str) -> list[list[JqlClause]]:
    """OR of ANDs of clauses. ``ORDER BY`` is dropped (results are newest first)."""
    jql = re.split(r"\border\s+by\b", jql, maxsplit=1, flags=re.IGNORECASE)[0]
    tokens = _jql_tokens(jql)
    if not tokens:
        raise JqlError(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your "
            "query."
        )
    groups: list[list[JqlClause]] = [[]]
    index = 0

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise JqlError("Error in the JQL Query: The query ended unexpectedly.")
        index += 1
        return tokens[index - 1]

    while True:
        kind, name = take()
        if kind != "word":
            raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{name}'.")
        field_name = JQL_FIELDS.get(name.lower())
        if field_name is None:
            raise JqlError(
                f"Field '{name}' does not exist or you do not have permission to view it."
            )
        kind, op = take()
        if kind == "word" and op.lower() == "not":
            kind, word = take()
            if word.lower() != "in":
                raise JqlError(f"Error in the JQL Query: Expecting 'in' but got '{word}'.")
            op = "not in"
        elif kind == "word" and op.lower() == "in":
            op = "in"
        elif kind != "op" or op not in ("=", "!=", "~"):
            raise JqlError(f"Error in the JQL Query: Expecting an operator but got '{op}'.")
        if op in ("in", "not in"):
            if take() != ("op", "("):
                raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
            values = []
            while True:
                kind, value = take()
                if kind == "op":
                    raise JqlError(f"Error in the JQL Query: Expecting a value but got '{value}'.")
                values.append(value)
                separator = take()
                if separator == ("op", ")"):
                    break
                if separator != ("op", ","):
                    raise JqlError("Error in the JQL Query: Expecting ',' or ')'.")
        else:
            kind, value = take()
            if kind == "op":
                raise JqlError(f"Error in the JQL Query: Expecting a value but got '{value}'.")
            values = [value]
        groups[-1].append(JqlClause(field_name, op, tuple(values)))
        if index >= len(tokens):
            return groups
        kind, joiner = take()
        if kind == "word" and joiner.lower() == "and":
            continue
        if kind == "word" and joiner.lower() == "or":
            groups.append([])
            continue
        raise JqlError(f"Error in the JQL Query: Expecting 'AND' or 'OR' but got '{joiner}'.")


def _issue_values(issue: dict, field_name: str) -> list[str]:
    fields = issue["fields"]
    match field_name:
        case "labels":
            return list(fields.get("labels") or [])
        case "project":
            project = fields["project"]
            return [project["key"], project["id"], project["name"]]
        case "key":
            return [issue["key"], issue["id"]]
        case "status":
            return [fields["status"]["name"]]
        case "issuetype":
            return [fields["issuetype"]["name"]]
        case "summary":
            return [fields.get("summary") or ""]
        case "text":
            return [fields.get("summary") or "", fields.get("description") or ""]
    return []


def _clause_matches(clause: JqlClause, issue: dict) -> bool:
    have = [value.casefold() for value in _issue_values(issue, clause.field)]
    wanted = [value.casefold() for value in clause.values]
    if clause.op == "~":
        return any(wanted[0] in value for value in have)
    hit = any(value in have for value in wanted)
    return not hit if clause.op in ("!=", "not in") else hit


def jql_matches(groups: list[list[JqlClause]], issue: dict) -> bool:
    return any(all(_clause_matches(clause, issue) for clause in group) for group in groups)
