"""The ``jira`` client for one connection, and the library's errors in our own words.

**Retries are ours, not the client's** (``max_retries=0``). The client's ``ResilientSession``
resends any request, POSTs included, on 429, 503 and connection errors, sleeping up to a
minute in between: a create whose answer was lost would be POSTed a second time and make a
second issue. Checked in jira 3.10 (``resilientsession.py``): the send loop runs while
``retry_number <= max_retries``; the first failure sets ``retry_number`` to 1, so with 0 the
loop ends there without calling ``__recoverable`` (nothing sleeps, nothing is resent) and the
failure is raised as it came. ``tests/apps/integrations/jira`` proves it against the double.

**No secret in any message.** ``JIRAError.__str__`` dumps the response's headers and body (and
the request's, when it has one): we never show it, never chain it (``from None``), and build
every message from the status code and Jira's own error texts, with the token masked in case a
server echoes it. ``requests``' connection errors name the URL, which carries no credentials
(basic auth travels in a header).

Two endpoints need more than the library's public methods:

- Search goes to Jira Cloud's ``/rest/api/3/search/jql`` (the old ``/search`` answers 410 on
  Cloud): ``enhanced_search_issues`` on a client whose REST version is 3. Everything else
  stays on version 2, where descriptions and comments are plain text, not ADF documents.
- The create metadata (``/issue/createmeta/{project}/issuetypes[/{id}]``) is read with the
  client's ``_get_json``: its ``project_issue_types`` / ``project_issue_fields`` refuse Cloud
  outright (pycontribs/jira#2353, #1907) and read the Server page shape (``values``), while
  Cloud answers ``issueTypes`` / ``fields``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from jira import JIRA
from jira.exceptions import JIRAError

from apps.integrations.bases.ticketing import TicketingRefused, TicketingUnavailable

# Jira's longest useful error text; the rest is noise for a person (and for the LLM).
MESSAGE_MAX_CHARS = 300
CREATEMETA_PAGE_SIZE = 50
JIRA_CLOUD = "Cloud"
CREATEMETA_MAX_PAGES = 20


def jira_url_normalized(url: str) -> str:
    """``https://acme.atlassian.net/`` → ``https://acme.atlassian.net``; refused unless it is
    an http(s) URL with a host and no credentials in it."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TicketingRefused(
            _("The Jira URL must look like https://your-site.atlassian.net (got %(url)r).")
            % {"url": url[:100]}
        )
    if parts.username or parts.password:
        raise TicketingRefused(_("The Jira URL must not contain a user name or password."))
    return url


def jira_client(*, url: str, email: str, api_token: str, rest_api_version: str = "2") -> JIRA:
    """A client that sends each request once (see the module docstring) and gives up after
    ``settings.JIRA_TIMEOUT_S``. Makes no request itself (``get_server_info=False``)."""
    client = JIRA(
        server=url,
        options={"rest_api_version": rest_api_version, "check_update": False},
        basic_auth=(email, api_token),
        get_server_info=False,
        max_retries=0,
        timeout=settings.JIRA_TIMEOUT_S,
    )
    # Only Jira Cloud is connected (``jira_connect`` checks ``serverInfo``). The client's
    # Cloud-only methods (``enhanced_search_issues``) read this attribute, which
    # ``get_server_info=False`` leaves at None; they then log a warning and return None
    # instead of searching, which a look-up by idempotency label would take for "not found".
    client.deploymentType = JIRA_CLOUD
    return client


# --- errors ------------------------------------------------------------------------------------


def _one_line(text: str, *, secret: str = "") -> str:
    if secret:
        text = text.replace(secret, "…")
    text = " ".join(text.split())
    if len(text) > MESSAGE_MAX_CHARS:
        text = text[: MESSAGE_MAX_CHARS - 1] + "…"
    return text


def jira_error_body(exc: JIRAError) -> dict[str, Any]:
    """The JSON body of Jira's error answer, or {} when it had none."""
    response = getattr(exc, "response", None)
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def jira_error_fields(exc: JIRAError) -> dict[str, str]:
    """``errors`` of Jira's answer: ``{field_id: message}`` for each field it refused."""
    errors = jira_error_body(exc).get("errors")
    if not isinstance(errors, dict):
        return {}
    return {str(field): str(message) for field, message in errors.items()}


def jira_error_reason(exc: JIRAError, *, secret: str = "") -> str:
    """Jira's own words for a refusal (``errorMessages`` and ``errors``), on one line."""
    body = jira_error_body(exc)
    messages = body.get("errorMessages")
    reasons = [str(m) for m in messages] if isinstance(messages, list) else []
    reasons += [f"{field}: {message}" for field, message in jira_error_fields(exc).items()]
    for key in ("message", "errorMessage"):
        if not reasons and isinstance(body.get(key), str):
            reasons.append(body[key])
    return _one_line("; ".join(reasons), secret=secret)


def jira_error_translated(
    exc: JIRAError, *, secret: str = ""
) -> TicketingUnavailable | TicketingRefused:
    """A ``JIRAError`` as the contract's error: transient (429, 5xx) or a refusal."""
    status = exc.status_code
    if status is None:
        # Raised by the library itself, without an answer (an odd or empty reply).
        return TicketingUnavailable(
            _("Jira gave an answer that could not be read; try again later.")
        )
    if status == 429:
        return TicketingUnavailable(
            _("Jira is limiting the rate of requests right now (HTTP 429); try again later.")
        )
    if status >= 500:
        return TicketingUnavailable(
            _("Jira is unavailable right now (HTTP %(status)s); try again later.")
            % {"status": status}
        )
    if status == 401:
        return TicketingRefused(_("Jira rejected the e-mail/API token (HTTP 401)."))
    if status == 403:
        return TicketingRefused(
            _("Jira rejected the e-mail/API token, or this account may not do that (HTTP 403).")
        )
    reason = jira_error_reason(exc, secret=secret)
    if reason:
        return TicketingRefused(
            _("Jira refused the request (HTTP %(status)s): %(reason)s")
            % {"status": status, "reason": reason}
        )
    return TicketingRefused(_("Jira refused the request (HTTP %(status)s).") % {"status": status})


@contextlib.contextmanager
def jira_errors_translated(*, url: str, secret: str = "") -> Iterator[None]:
    """Raise the contract's errors instead of the library's and ``requests``' ones.

    Never chained to the original (``from None``): its text holds headers and bodies."""
    try:
        yield
    except JIRAError as exc:
        raise jira_error_translated(exc, secret=secret) from None
    except requests.exceptions.Timeout:
        raise TicketingUnavailable(
            _("Jira at %(url)s did not answer within %(seconds)s s; try again later.")
            % {"url": url, "seconds": f"{settings.JIRA_TIMEOUT_S:g}"}
        ) from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema):
        raise TicketingRefused(
            _("The Jira URL %(url)s is not a valid URL.") % {"url": url}
        ) from None
    except (requests.exceptions.JSONDecodeError, ValueError, KeyError):
        # A 2xx whose body is not the JSON Jira sends (a proxy's page, a cut answer).
        raise TicketingUnavailable(
            _("Jira at %(url)s gave an answer that could not be read; try again later.")
            % {"url": url}
        ) from None
    except requests.exceptions.RequestException:
        # Connection refused, DNS, TLS, a connection dropped mid-answer.
        raise TicketingUnavailable(
            _("Jira cannot be reached at %(url)s right now; try again later.") % {"url": url}
        ) from None


# --- create metadata ---------------------------------------------------------------------------


def _createmeta_pages(client: JIRA, path: str, items_keys: tuple[str, ...]) -> list[dict]:
    items: list[dict] = []
    start = 0
    for _page in range(CREATEMETA_MAX_PAGES):
        page = client._get_json(path, params={"startAt": start, "maxResults": CREATEMETA_PAGE_SIZE})
        batch = next((page[key] for key in items_keys if isinstance(page.get(key), list)), [])
        items.extend(item for item in batch if isinstance(item, dict))
        start += len(batch)
        total = page.get("total")
        if not batch or page.get("isLast") or (isinstance(total, int) and start >= total):
            break
        if total is None and len(batch) < CREATEMETA_PAGE_SIZE:
            break
    return items


def createmeta_issue_types(client: JIRA, project: str) -> list[dict]:
    """The issue types one may create in ``project``: ``[{"id", "name", ...}]``."""
    return _createmeta_pages(
        client, f"issue/createmeta/{project}/issuetypes", ("issueTypes", "values")
    )


def createmeta_fields(client: JIRA, project: str, issue_type_id: str) -> list[dict]:
    """The create screen's fields: ``[{"fieldId", "name", "required", "hasDefaultValue",
    "schema", "allowedValues", ...}]``."""
    return _createmeta_pages(
        client,
        f"issue/createmeta/{project}/issuetypes/{issue_type_id}",
        ("fields", "values", "results"),
    )


def createmeta_field_id(field: dict) -> str:
    return str(field.get("fieldId") or field.get("key") or "")


REQUIRED_MESSAGE = re.compile(r"^\s*(?P<name>.+?) is required\.?\s*$", re.IGNORECASE)


def field_name_from_required_message(message: str) -> str:
    """``"Team is required."`` → ``"Team"`` (Jira names the field in its refusal); ``""``."""
    match = REQUIRED_MESSAGE.match(message or "")
    return match.group("name") if match else ""
