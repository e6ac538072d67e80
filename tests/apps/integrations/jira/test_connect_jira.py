import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import schema_context

from apps.core import crypto
from apps.integrations.bases.ticketing import (
    MissingField,
    TicketingRefused,
    TicketingUnavailable,
)
from apps.integrations.jira.models import JiraConnection
from apps.integrations.jira.services import jira_connect, jira_disconnect

TEAM = "customfield_10042"


def _connect_args(double, *extra: str) -> list[str]:
    return [
        "--url", double.url, "--email", double.email, "--api-token", double.api_token,
        "--project", "PAY", *extra,
    ]  # fmt: skip


def _stored(tenant) -> JiraConnection | None:
    with schema_context(tenant.schema_name):
        return JiraConnection.objects.first()


def test_connect_jira_checks_live_and_stores_the_connection(tenant_a, jira_double, capsys):
    call_command("connect_jira", tenant_a.schema_name, *_connect_args(jira_double))

    jira = _stored(tenant_a)
    assert jira.url == jira_double.url
    assert jira.email == jira_double.email
    assert jira.api_token == jira_double.api_token
    assert (jira.project_key, jira.issue_type) == ("PAY", "Task")
    assert (jira.server_title, jira.account_name) == ("Jamono Test Jira", "Jamono Bot")
    assert jira.verified_at is not None
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "connected" in out
    assert "Jamono Test Jira as Jamono Bot" in out
    assert "project PAY" in out
    assert jira_double.requests_to("/rest/api/2/serverInfo")
    assert jira_double.requests_to("/rest/api/2/myself")


def test_api_token_is_encrypted_in_the_database_column(tenant_a, jira_double):
    call_command("connect_jira", tenant_a.schema_name, *_connect_args(jira_double))

    with schema_context(tenant_a.schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT api_token FROM jira_integration_jiraconnection")
        raw = cursor.fetchone()[0]
    assert jira_double.api_token not in raw
    assert raw.startswith(crypto.CIPHERTEXT_PREFIX)
    assert crypto.decrypt(raw) == jira_double.api_token


def test_connect_jira_twice_updates_the_one_connection(tenant_a, jira_double, capsys):
    call_command("connect_jira", tenant_a.schema_name, *_connect_args(jira_double))
    jira_double.api_token = "ATATT-rotated-token-987654321"
    call_command("connect_jira", tenant_a.schema_name, *_connect_args(jira_double))

    with schema_context(tenant_a.schema_name):
        assert JiraConnection.objects.count() == 1
    assert _stored(tenant_a).api_token == "ATATT-rotated-token-987654321"
    assert "already connected" in capsys.readouterr().out.splitlines()[-1]


def test_flags_default_to_the_jira_settings(tenant_a, jira_double, settings):
    call_command("connect_jira", tenant_a.schema_name)

    jira = _stored(tenant_a)
    assert (jira.url, jira.email, jira.project_key) == (jira_double.url, jira_double.email, "PAY")


def test_a_wrong_token_is_refused_and_nothing_is_stored(tenant_a, jira_double):
    with pytest.raises(CommandError) as refused:
        call_command(
            "connect_jira", tenant_a.schema_name, "--url", jira_double.url,
            "--email", jira_double.email, "--api-token", "wrong-token-123",
        )  # fmt: skip

    assert "Jira rejected the e-mail/API token" in str(refused.value)
    assert "wrong-token-123" not in str(refused.value)
    assert _stored(tenant_a) is None


@pytest.mark.django_db(transaction=True)
def test_connect_jira_with_a_wrong_token_exits_non_zero_with_one_line(manage_py, jira_double):
    from tests.factories import tenant_make

    tenant = tenant_make()

    result = manage_py(
        "connect_jira", tenant.schema_name, "--url", jira_double.url,
        "--email", jira_double.email, "--api-token", "ATATT-wrong-0000", "--project", "PAY",
    )  # fmt: skip

    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.stderr
    assert "Jira rejected the e-mail/API token" in error_lines[0]
    assert "ATATT-wrong-0000" not in result.stderr + result.stdout
    assert _stored(tenant) is None


@pytest.mark.django_db(transaction=True)
def test_connect_jira_with_an_unreachable_url_exits_non_zero_with_one_line(
    manage_py, closed_port_url
):
    from tests.factories import tenant_make

    tenant = tenant_make()

    result = manage_py(
        "connect_jira", tenant.schema_name, "--url", closed_port_url,
        "--email", "someone@example.com", "--api-token", "ATATT-unused-1111",
    )  # fmt: skip

    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.stderr
    assert f"Jira cannot be reached at {closed_port_url}" in error_lines[0]
    assert "ATATT-unused-1111" not in result.stderr + result.stdout
    assert _stored(tenant) is None


def test_an_unreachable_url_is_unavailable_and_nothing_is_stored(jira_tenant, closed_port_url):
    connection.set_tenant(jira_tenant)
    before = JiraConnection.objects.get()

    with pytest.raises(TicketingUnavailable, match="cannot be reached"):
        jira_connect(url=closed_port_url, email="x@example.com", api_token="ATATT-nope")

    assert JiraConnection.objects.get().url == before.url


def test_an_unknown_project_is_refused_in_one_line_and_nothing_is_stored(tenant_a, jira_double):
    with pytest.raises(CommandError) as refused:
        call_command(
            "connect_jira", tenant_a.schema_name,
            *_connect_args(jira_double)[:-2], "--project", "NOPE",
        )  # fmt: skip

    assert str(refused.value) == "Jira has no project NOPE (or this account cannot see it)."
    assert _stored(tenant_a) is None


def test_an_unknown_issue_type_is_refused_naming_those_that_exist(tenant_a, jira_double):
    with pytest.raises(CommandError, match="no issue type “Story”; it has: “Bug”, “Incident”"):
        call_command(
            "connect_jira", tenant_a.schema_name, *_connect_args(jira_double),
            "--issue-type", "Story",
        )  # fmt: skip
    assert _stored(tenant_a) is None


def test_jira_data_center_is_refused_in_one_line(tenant_a, jira_double):
    jira_double.deployment_type = "Server"

    with pytest.raises(CommandError) as refused:
        call_command("connect_jira", tenant_a.schema_name, *_connect_args(jira_double))

    assert str(refused.value) == "Only Jira Cloud can be connected (this is Jira Server)."
    assert _stored(tenant_a) is None


def test_an_unknown_tenant_is_refused(db, jira_double):
    with pytest.raises(CommandError, match="no tenant with schema 'nobody_here'"):
        call_command("connect_jira", "nobody_here", *_connect_args(jira_double))


def test_a_required_custom_field_is_named_in_plain_words(tenant_a, jira_double, capsys):
    jira_double.require_field(TEAM, "Team", allowed=["Payments", "Search"])

    call_command("connect_jira", tenant_a.schema_name, *_connect_args(jira_double))

    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert 'Jira requires "Team" for Task in PAY' in out
    assert '--field "Team=VALUE"' in out
    assert TEAM not in out
    # Connected all the same: a warning, not an error.
    assert _stored(tenant_a).field_names[TEAM] == "Team"


def test_the_service_returns_the_fields_still_missing(tenant_a, jira_double):
    jira_double.require_field(TEAM, "Team")
    connection.set_tenant(tenant_a)

    result = jira_connect(
        url=jira_double.url,
        email=jira_double.email,
        api_token=jira_double.api_token,
        project_key="PAY",
    )

    assert result.created
    assert result.missing_fields == (MissingField(field_id=TEAM, name="Team"),)


@pytest.mark.parametrize("given", ["Team", "team", TEAM])
def test_a_field_given_by_name_or_id_is_stored_by_id_in_the_shape_jira_wants(
    tenant_a, jira_double, capsys, given
):
    jira_double.require_field(TEAM, "Team", allowed=["Payments", "Search"])

    call_command(
        "connect_jira", tenant_a.schema_name, *_connect_args(jira_double),
        "--field", f"{given}=payments",
    )  # fmt: skip

    jira = _stored(tenant_a)
    assert jira.field_values == {TEAM: {"value": "Payments"}}
    assert "requires" not in capsys.readouterr().out


def test_fields_of_each_kind_get_their_shape(tenant_a, jira_double):
    jira_double.require_field("customfield_1", "Squads", kind="array", allowed=["A", "B"])
    jira_double.require_field("customfield_2", "Impact", kind="number")
    jira_double.require_field("customfield_3", "Runbook", kind="string")
    connection.set_tenant(tenant_a)

    result = jira_connect(
        url=jira_double.url,
        email=jira_double.email,
        api_token=jira_double.api_token,
        project_key="PAY",
        fields={"Squads": "A, B", "Impact": "2.5", "Runbook": "https://runbooks/pay"},
    )

    assert result.connection.field_values == {
        "customfield_1": [{"value": "A"}, {"value": "B"}],
        "customfield_2": 2.5,
        "customfield_3": "https://runbooks/pay",
    }
    assert result.missing_fields == ()


def test_a_value_the_field_does_not_take_is_refused_naming_those_it_takes(tenant_a, jira_double):
    jira_double.require_field(TEAM, "Team", allowed=["Payments", "Search"])

    with pytest.raises(CommandError) as refused:
        call_command(
            "connect_jira", tenant_a.schema_name, *_connect_args(jira_double),
            "--field", "Team=Billing",
        )  # fmt: skip

    assert str(refused.value) == (
        "“Billing” is not a value of the Jira field “Team”; it takes: “Payments”, “Search”."
    )
    assert _stored(tenant_a) is None


def test_an_unknown_field_is_refused(tenant_a, jira_double):
    with pytest.raises(CommandError, match="Jira has no field “Colour” when creating a Task"):
        call_command(
            "connect_jira", tenant_a.schema_name, *_connect_args(jira_double),
            "--field", "Colour=red",
        )  # fmt: skip


def test_a_field_entry_without_equals_sign_is_refused(tenant_a, jira_double):
    with pytest.raises(CommandError, match="--field takes NAME=VALUE"):
        call_command(
            "connect_jira", tenant_a.schema_name, *_connect_args(jira_double), "--field", "Team"
        )


def test_a_rerun_without_fields_keeps_the_mapping(tenant_a, jira_double):
    jira_double.require_field(TEAM, "Team")
    args = _connect_args(jira_double)
    call_command("connect_jira", tenant_a.schema_name, *args, "--field", "Team=Search")

    call_command("connect_jira", tenant_a.schema_name, *args)

    assert _stored(tenant_a).field_values == {TEAM: {"value": "Search"}}


def test_no_log_line_nor_output_contains_the_token(tenant_a, jira_double, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    for name in ("jira", "urllib3", "requests", "django.db.backends"):
        caplog.set_level(logging.DEBUG, logger=name)
    connection.force_debug_cursor = True  # SQL statements and their parameters are logged too
    try:
        call_command("connect_jira", tenant_a.schema_name, *_connect_args(jira_double))
        with pytest.raises(CommandError) as refused:
            call_command(
                "connect_jira", tenant_a.schema_name, "--url", jira_double.url,
                "--email", jira_double.email, "--api-token", jira_double.api_token + "x",
            )  # fmt: skip
    finally:
        connection.force_debug_cursor = False

    sql = [r for r in caplog.records if r.name == "django.db.backends"]
    assert any("jira_integration_jiraconnection" in r.getMessage() for r in sql)
    for record in caplog.records:
        assert jira_double.api_token not in record.getMessage(), record.name
    output = capsys.readouterr()
    assert jira_double.api_token not in output.out + output.err + str(refused.value)


def test_jira_disconnect_forgets_the_connection(jira_tenant):
    connection.set_tenant(jira_tenant)

    assert jira_disconnect()
    assert not JiraConnection.objects.exists()
    assert not jira_disconnect()


def test_a_url_with_credentials_in_it_is_refused(tenant_a):
    connection.set_tenant(tenant_a)
    with pytest.raises(TicketingRefused, match="must not contain a user name or password"):
        jira_connect(url="https://me:secret@acme.atlassian.net", email="a@b.c", api_token="t")
