"""JiraTicketing through the real ``jira`` client against the Jira Cloud double."""

import base64
import logging
import time

import pytest
from django.db import connection

from apps.integrations.bases.ticketing import (
    MissingField,
    TicketingNotConnected,
    TicketingRefused,
    TicketingUnavailable,
    TicketRef,
    ticketing_connected,
    ticketing_for_tenant,
)
from apps.integrations.jira.models import JiraConnection
from apps.integrations.jira.services import jira_connect
from apps.integrations.jira.ticketing import JiraTicketing, idempotency_label

TEAM = "customfield_10042"
CREATE = "/rest/api/2/issue"


def _create(tracker, key="call-1", **overrides):
    args = {
        "summary": "Payments API down since 10:05",
        "description": "Checkout fails with 502.\n\nAsked in Slack: https://slack/thread",
        "idempotency_key": key,
        **overrides,
    }
    return tracker.issue_create(**args)


def _connect(double, **overrides):
    args = {
        "url": double.url,
        "email": double.email,
        "api_token": double.api_token,
        "project_key": "PAY",
        **overrides,
    }
    return jira_connect(**args)


# --- connection ----------------------------------------------------------------------------------


def test_a_tenant_without_jira_is_not_connected(tenant_a):
    connection.set_tenant(tenant_a)

    assert not ticketing_connected()
    with pytest.raises(TicketingNotConnected):
        ticketing_for_tenant()


def test_the_public_schema_is_never_connected(db):
    assert not JiraTicketing.connected()


def test_the_configured_backend_is_jira_for_a_connected_tenant(jira_tenant):
    assert ticketing_connected()
    assert isinstance(ticketing_for_tenant(), JiraTicketing)


def test_one_tenants_jira_is_not_anothers(jira_tenant, tenant_b):
    connection.set_tenant(tenant_b)

    assert not ticketing_connected()


# --- create, exactly once ----------------------------------------------------------------------


def test_issue_create_makes_one_issue_with_its_fields_and_key_label(jira_tenant, jira_double):
    ref = _create(ticketing_for_tenant(), priority="High")

    assert ref == TicketRef(key="PAY-1", url=f"{jira_double.url}/browse/PAY-1", created=True)
    [issue] = jira_double.issues
    fields = issue["fields"]
    assert fields["summary"] == "Payments API down since 10:05"
    assert fields["description"].endswith("Asked in Slack: https://slack/thread")
    assert fields["issuetype"]["name"] == "Task"
    assert fields["project"]["key"] == "PAY"
    assert fields["priority"]["name"] == "High"
    assert fields["labels"] == [idempotency_label("call-1")]
    assert idempotency_label("call-1").startswith("jamono-")
    assert len(idempotency_label("call-1")) == len("jamono-") + 20


def test_project_and_issue_type_can_be_named_per_issue(jira_tenant, jira_double):
    jira_double.add_project("OPS", "Operations")

    ref = _create(ticketing_for_tenant(), project="OPS", issue_type="Incident")

    assert ref.key == "OPS-1"
    assert jira_double.issue("OPS-1")["fields"]["issuetype"]["name"] == "Incident"


def test_a_multi_line_summary_is_put_on_one_line(jira_tenant, jira_double):
    _create(ticketing_for_tenant(), summary="Payments\ndown " + "x" * 300)

    summary = jira_double.issues[0]["fields"]["summary"]
    assert summary.startswith("Payments down x")
    assert len(summary) == 255


def test_the_same_key_twice_returns_the_first_issue(jira_tenant, jira_double):
    tracker = ticketing_for_tenant()
    first = _create(tracker)

    again = _create(tracker)

    assert again == TicketRef(key=first.key, url=first.url, created=False)
    assert len(jira_double.issues) == 1
    assert len(jira_double.requests_to(CREATE)) == 1


def test_a_503_then_a_retry_with_the_same_key_makes_exactly_one_issue(jira_tenant, jira_double):
    jira_double.fail_next(1, status=503, path=CREATE)
    tracker = ticketing_for_tenant()

    with pytest.raises(TicketingUnavailable, match=r"HTTP 503"):
        _create(tracker)
    # The client itself never sent the create again: the retry is ours.
    assert len(jira_double.requests_to(CREATE)) == 1
    assert jira_double.issues == []

    ref = _create(tracker)

    assert ref.created
    assert [issue["key"] for issue in jira_double.issues] == [ref.key]
    assert len(jira_double.requests_to(CREATE)) == 2


def test_a_create_jira_made_but_whose_answer_was_lost_is_found_by_its_label(
    jira_tenant, jira_double
):
    jira_double.fail_after_create_next()
    tracker = ticketing_for_tenant()

    with pytest.raises(TicketingUnavailable):
        _create(tracker)
    assert len(jira_double.issues) == 1

    ref = _create(tracker)

    assert ref == TicketRef(key="PAY-1", url=f"{jira_double.url}/browse/PAY-1", created=False)
    assert len(jira_double.issues) == 1
    assert len(jira_double.requests_to(CREATE)) == 1


def test_a_create_answered_503_with_retry_after_is_not_resent_by_the_client(
    jira_tenant, jira_double
):
    # The jira client's own retry would POST again after Retry-After: a second issue.
    jira_double.fail_after_create_next(retry_after=1)
    tracker = ticketing_for_tenant()

    with pytest.raises(TicketingUnavailable, match="HTTP 503"):
        _create(tracker)
    again = _create(tracker)

    assert not again.created
    assert len(jira_double.requests_to(CREATE)) == 1
    assert len(jira_double.issues) == 1


def test_a_429_with_retry_after_is_not_retried_nor_waited_for_by_the_client(
    jira_tenant, jira_double
):
    from tests.doubles.base import Reply

    jira_double.reply_next(
        Reply.json({"errorMessages": ["Rate limit exceeded."]}, status=429,
                   headers={"Retry-After": "30"}),
        path=CREATE,
    )  # fmt: skip
    tracker = ticketing_for_tenant()
    started = time.monotonic()

    with pytest.raises(TicketingUnavailable, match="HTTP 429"):
        _create(tracker)

    assert time.monotonic() - started < 5
    assert len(jira_double.requests_to(CREATE)) == 1


def test_a_dropped_connection_is_unavailable_and_not_resent(jira_tenant, jira_double):
    jira_double.close_next(path=CREATE)

    with pytest.raises(TicketingUnavailable, match="cannot be reached"):
        _create(ticketing_for_tenant())

    assert len(jira_double.requests_to(CREATE)) == 1


def test_a_jira_that_does_not_answer_in_time_is_unavailable(jira_tenant, jira_double, settings):
    settings.JIRA_TIMEOUT_S = 0.3
    jira_double.delay_next(1.5, path=CREATE)

    with pytest.raises(TicketingUnavailable, match=r"did not answer within 0.3 s"):
        _create(ticketing_for_tenant())


def test_a_jira_that_cannot_be_reached_is_unavailable(jira_tenant, closed_port_url):
    JiraConnection.objects.update(url=closed_port_url)

    with pytest.raises(TicketingUnavailable, match=f"cannot be reached at {closed_port_url}"):
        _create(ticketing_for_tenant())


def test_a_token_jira_no_longer_accepts_is_refused_in_plain_words(jira_tenant, jira_double):
    jira_double.api_token = "ATATT-rotated-elsewhere"

    with pytest.raises(TicketingRefused, match=r"Jira rejected the e-mail/API token \(HTTP 401\)"):
        _create(ticketing_for_tenant())


# --- a required field --------------------------------------------------------------------------


def test_a_required_field_jira_asks_for_is_refused_naming_it(jira_tenant, jira_double):
    jira_double.require_field(TEAM, "Team", allowed=["Payments", "Search"])

    with pytest.raises(TicketingRefused) as refused:
        _create(ticketing_for_tenant())

    assert refused.value.missing_fields == (MissingField(field_id=TEAM, name="Team"),)
    assert str(refused.value) == "Jira requires the field “Team” for Task in PAY."
    assert jira_double.issues == []


def test_once_the_field_is_mapped_the_same_create_succeeds_once(jira_tenant, jira_double):
    jira_double.require_field(TEAM, "Team", allowed=["Payments", "Search"])
    with pytest.raises(TicketingRefused):
        _create(ticketing_for_tenant(), key="incident-7")

    _connect(jira_double, fields={"Team": "Payments"})
    ref = _create(ticketing_for_tenant(), key="incident-7")
    again = _create(ticketing_for_tenant(), key="incident-7")

    assert ref.created and not again.created
    [issue] = jira_double.issues
    assert issue["fields"][TEAM] == {"value": "Payments"}


def test_other_field_errors_are_refused_with_jiras_words(jira_tenant, jira_double):
    with pytest.raises(TicketingRefused) as refused:
        _create(ticketing_for_tenant(), priority="Apocalyptic")

    assert refused.value.missing_fields == ()
    assert (
        str(refused.value) == "Jira refused the issue: priority: Specify a valid value for Priority"
    )


def test_an_unknown_issue_type_on_create_is_refused(jira_tenant, jira_double):
    with pytest.raises(TicketingRefused, match="issuetype: valid issue type is required"):
        _create(ticketing_for_tenant(), issue_type="Epic")


def test_the_dry_run_names_the_required_fields_a_create_leaves_empty(jira_tenant, jira_double):
    jira_double.require_field(TEAM, "Team")
    jira_double.add_field("customfield_5", "Notes", kind="string")
    tracker = ticketing_for_tenant()

    assert tracker.create_fields_missing() == [MissingField(field_id=TEAM, name="Team")]
    assert tracker.create_fields_missing(issue_type="bug") == [
        MissingField(field_id=TEAM, name="Team")
    ]
    _connect(jira_double, fields={"Team": "Search"})
    assert ticketing_for_tenant().create_fields_missing() == []
    with pytest.raises(TicketingRefused, match="has no issue type “Epic”"):
        tracker.create_fields_missing(issue_type="Epic")


def test_a_field_required_only_for_one_issue_type_is_missing_only_there(jira_tenant, jira_double):
    jira_double.require_field(TEAM, "Team", issue_type="Incident")
    tracker = ticketing_for_tenant()

    assert tracker.create_fields_missing() == []
    assert tracker.create_fields_missing(issue_type="Incident") == [
        MissingField(field_id=TEAM, name="Team")
    ]


# --- comment, transition, search ---------------------------------------------------------------


def test_comment_add_returns_the_comments_id(jira_tenant, jira_double):
    tracker = ticketing_for_tenant()
    ref = _create(tracker)

    comment_id = tracker.comment_add(key=ref.key, body="Rolled back at 10:20.")

    [comment] = jira_double.issue(ref.key)["comments"]
    assert comment_id == comment["id"]
    assert comment["body"] == "Rolled back at 10:20."


def test_a_comment_on_an_issue_that_does_not_exist_is_refused(jira_tenant):
    with pytest.raises(TicketingRefused, match="Issue does not exist"):
        ticketing_for_tenant().comment_add(key="PAY-404", body="hello")


def test_transition_by_status_name_without_case(jira_tenant, jira_double):
    tracker = ticketing_for_tenant()
    ref = _create(tracker)

    assert tracker.issue_transition(key=ref.key, status="in progress") == "In Progress"
    assert tracker.issue_transition(key=ref.key, status="DONE") == "Done"

    assert jira_double.issue(ref.key)["fields"]["status"]["name"] == "Done"


def test_a_status_no_transition_leads_to_is_refused_naming_those_that_do(jira_tenant, jira_double):
    tracker = ticketing_for_tenant()
    ref = _create(tracker)

    with pytest.raises(TicketingRefused) as refused:
        tracker.issue_transition(key=ref.key, status="Done")

    assert str(refused.value) == (
        "PAY-1 cannot move to “Done”; from “To Do” it can move to: “In Progress”."
    )
    assert jira_double.issue(ref.key)["fields"]["status"]["name"] == "To Do"


def test_moving_to_the_status_it_already_has_is_no_error(jira_tenant, jira_double):
    tracker = ticketing_for_tenant()
    ref = _create(tracker)

    assert tracker.issue_transition(key=ref.key, status="to do") == "To Do"
    assert not [r for r in jira_double.requests_to(f"{CREATE}/{ref.key}/transitions")
                if r.method == "POST"]  # fmt: skip


def test_search_uses_the_cloud_search_endpoint(jira_tenant, jira_double):
    tracker = ticketing_for_tenant()
    _create(tracker, key="a", summary="Payments API down")
    _create(tracker, key="b", summary="Search slow")
    tracker.issue_transition(key="PAY-2", status="In Progress")

    found = tracker.issues_search(query='project = PAY AND status = "In Progress"', max_results=5)

    assert [(t.key, t.summary, t.status) for t in found] == [
        ("PAY-2", "Search slow", "In Progress")
    ]
    assert found[0].url == f"{jira_double.url}/browse/PAY-2"
    assert jira_double.requests_to("/rest/api/3/search/jql")
    paths = {request.path for request in jira_double.requests}
    assert not paths & {"/rest/api/2/search", "/rest/api/3/search"}


def test_search_returns_at_most_max_results(jira_tenant, jira_double):
    tracker = ticketing_for_tenant()
    for n in range(4):
        _create(tracker, key=f"k{n}", summary=f"Issue {n}")

    found = tracker.issues_search(query="project = PAY ORDER BY created DESC", max_results=2)

    assert [t.key for t in found] == ["PAY-4", "PAY-3"]


def test_a_query_jira_cannot_parse_is_refused_with_jiras_words(jira_tenant):
    with pytest.raises(TicketingRefused, match="Field 'colour' does not exist"):
        ticketing_for_tenant().issues_search(query="colour = red", max_results=5)


# --- the token stays secret ----------------------------------------------------------------------


def test_the_token_appears_in_no_log_line_nor_error(jira_tenant, jira_double, caplog):
    token = jira_double.api_token
    basic = base64.b64encode(f"{jira_double.email}:{token}".encode()).decode()
    tracker = ticketing_for_tenant()  # the client sets the "jira" logger's level when built
    caplog.set_level(logging.DEBUG)
    for name in ("jira", "urllib3", "requests", "apps.integrations.jira"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors = []

    jira_double.fail_next(1, status=503, path=CREATE)
    for _attempt in range(2):
        try:
            ref = _create(tracker)
        except TicketingUnavailable as exc:
            errors.append(exc)
    jira_double.require_field(TEAM, "Team")
    with pytest.raises(TicketingRefused) as refused:
        _create(tracker, key="other")
    errors.append(refused.value)
    tracker.comment_add(key=ref.key, body="ok")
    tracker.issues_search(query="project = PAY", max_results=3)
    jira_double.api_token = "changed"
    with pytest.raises(TicketingRefused) as rejected:
        tracker.comment_add(key=ref.key, body="no")
    errors.append(rejected.value)

    assert any(record.name.startswith("urllib3") for record in caplog.records)
    for record in caplog.records:
        message = record.getMessage()
        assert token not in message and basic not in message, record.name
    for error in errors:
        assert token not in str(error) and basic not in str(error)
        assert error.__cause__ is None  # never the library's error, which dumps headers
    assert token not in repr(tracker) and token not in repr(tracker.connection)
