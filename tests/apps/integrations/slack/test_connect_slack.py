import logging

import pytest
from django.core.management import call_command
from django.db import connection

from apps.core import crypto
from apps.integrations.slack.models import SlackWorkspace
from apps.integrations.slack.selectors import slack_workspace_get_by_team
from apps.integrations.slack.services import WorkspaceValidationError, slack_workspace_connect
from tests.factories import slack_token


def _raw_token_column(team_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bot_token FROM public.workspaces_slackworkspace WHERE team_id = %s", [team_id]
        )
        return cursor.fetchone()[0]


def test_connect_slack_binds_the_team_to_the_tenant(tenant_a, capsys):
    token = slack_token()

    call_command(
        "connect_slack", tenant_a.schema_name, "--team-id", "T0A1", "--bot-token", token,
        "--bot-user-id", "U0BOT1",
    )  # fmt: skip

    workspace = slack_workspace_get_by_team(team_id="T0A1")
    assert workspace.tenant == tenant_a
    assert workspace.bot_user_id == "U0BOT1"
    assert workspace.bot_token == token
    assert "connected" in capsys.readouterr().out


def test_bot_token_is_encrypted_in_the_database_column(tenant_a):
    token = slack_token()
    slack_workspace_connect(
        schema_name=tenant_a.schema_name, team_id="T0A2", bot_token=token, bot_user_id="U0BOT2"
    )

    raw = _raw_token_column("T0A2")

    assert token not in raw
    assert token.split("-")[-1] not in raw
    assert raw.startswith(crypto.CIPHERTEXT_PREFIX)
    assert crypto.decrypt(raw) == token


def test_no_log_line_at_any_level_contains_the_token(tenant_a, caplog, capsys):
    token = slack_token()
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # SQL statements and their parameters are logged too
    try:
        call_command(
            "connect_slack", tenant_a.schema_name, "--team-id", "T0A3", "--bot-token", token,
            "--bot-user-id", "U0BOT3",
        )  # fmt: skip
        workspace = slack_workspace_get_by_team(team_id="T0A3")
        logging.getLogger("jamono.test").debug("workspace %r", workspace)
        # A reinstall with a refreshed token, and a refused bad one, log nothing secret either.
        slack_workspace_connect(
            schema_name=tenant_a.schema_name,
            team_id="T0A3",
            bot_token=token,
            bot_user_id="U0BOT3",
        )
        with pytest.raises(WorkspaceValidationError) as refused:
            slack_workspace_connect(
                schema_name=tenant_a.schema_name,
                team_id="T0A3",
                bot_token=token + " 2",
                bot_user_id="U0BOT3",
            )
    finally:
        connection.force_debug_cursor = False

    sql_records = [r for r in caplog.records if r.name == "django.db.backends"]
    assert any("workspaces_slackworkspace" in r.getMessage() for r in sql_records)
    for record in caplog.records:
        assert token not in record.getMessage(), record.name
    output = capsys.readouterr()
    assert token not in output.out + output.err
    assert token not in str(refused.value)


def test_reconnecting_the_same_team_updates_the_token_idempotently(tenant_a):
    first, second = slack_token(), slack_token()
    args = {"schema_name": tenant_a.schema_name, "team_id": "T0A4", "bot_user_id": "U0BOT4"}

    assert slack_workspace_connect(**args, bot_token=first).created
    assert not slack_workspace_connect(**args, bot_token=second).created

    assert SlackWorkspace.objects.filter(team_id="T0A4").count() == 1
    assert slack_workspace_get_by_team(team_id="T0A4").bot_token == second


def test_a_team_connected_to_another_tenant_is_refused(tenant_a, tenant_b):
    slack_workspace_connect(
        schema_name=tenant_a.schema_name, team_id="T0A5", bot_token=slack_token(),
        bot_user_id="U0BOT5",
    )  # fmt: skip

    with pytest.raises(WorkspaceValidationError, match="another tenant"):
        slack_workspace_connect(
            schema_name=tenant_b.schema_name, team_id="T0A5", bot_token=slack_token(),
            bot_user_id="U0BOT5",
        )  # fmt: skip
    assert slack_workspace_get_by_team(team_id="T0A5").tenant == tenant_a


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("bot_token", "xoxp-1111-2222-abcdef", "invalid bot token"),
        ("bot_token", "not-a-token", "invalid bot token"),
        ("bot_token", "", "invalid bot token: it is empty"),
        ("bot_token", "xoxb-123 456-abc", "invalid bot token: it contains spaces"),
        ("bot_token", "xoxb-\x00123-456", "invalid bot token: it contains spaces"),
        ("bot_token", "xoxb-1", "invalid bot token: 6 characters"),
        ("bot_token", "xoxb-" + "a" * 600, "invalid bot token: 605 characters"),
        ("team_id", "t123", "invalid Slack team ID"),
        ("team_id", "X123", "invalid Slack team ID"),
        ("bot_user_id", "bot", "invalid bot user ID"),
        ("schema_name", "nobody_here", "no tenant"),
    ],
)
def test_malformed_input_is_refused_and_nothing_is_stored(tenant_a, field, value, reason):
    args = {
        "schema_name": tenant_a.schema_name,
        "team_id": "T0A6",
        "bot_token": slack_token(),
        "bot_user_id": "U0BOT6",
        field: value,
    }
    with pytest.raises(WorkspaceValidationError, match=reason):
        slack_workspace_connect(**args)
    assert not SlackWorkspace.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_connect_slack_with_a_malformed_token_exits_non_zero_with_one_line(manage_py):
    from tests.factories import tenant_make

    tenant = tenant_make()

    result = manage_py(
        "connect_slack", tenant.schema_name, "--team-id", "T0B1", "--bot-token",
        "xoxp-123-456-userToken", "--bot-user-id", "U0BOT7",
    )  # fmt: skip

    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.stderr
    assert "invalid bot token" in error_lines[0]
    assert "xoxp-123-456-userToken" not in result.stderr + result.stdout
    assert not SlackWorkspace.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_connect_slack_twice_from_the_command_line_is_idempotent(manage_py):
    from tests.factories import tenant_make

    tenant = tenant_make()
    args = ("connect_slack", tenant.schema_name, "--team-id", "T0B2", "--bot-user-id", "U0BOT8")
    token = slack_token()

    first = manage_py(*args, "--bot-token", token)
    second = manage_py(*args, "--bot-token", token)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert "already connected" in second.stdout
    assert SlackWorkspace.objects.get(team_id="T0B2").bot_token == token
    assert token not in first.stdout + first.stderr + second.stdout + second.stderr


@pytest.mark.parametrize(
    "token",
    [
        "xoxb-123-456-abc",
        # With token rotation on, Slack issues bot tokens of this shape; the body is opaque.
        "xoxe.xoxb-1-MS0yLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkwMTIzLTEyMzQ1Njc4OTAxMjM0LWFiY2RlZg",
    ],
)
def test_bot_tokens_are_accepted_by_their_prefix_whatever_their_body(tenant_a, token):
    result = slack_workspace_connect(
        schema_name=tenant_a.schema_name, team_id="T0A7", bot_token=token, bot_user_id="U0BOT7"
    )
    assert result.workspace.bot_token == token


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("xoxp-123-456-userToken", "expected a bot token starting with xoxb- or xoxe.xoxb-"),
        ("", "it is empty"),
        ("xoxb-123 456-abc", "it contains spaces"),
    ],
)
def test_connect_slack_refuses_a_user_token_an_empty_one_and_spaces_in_one_line(
    manage_py, token, reason
):
    from tests.factories import tenant_make

    tenant = tenant_make()

    result = manage_py(
        "connect_slack", tenant.schema_name, "--team-id", "T0B3", "--bot-token", token,
        "--bot-user-id", "U0BOT9",
    )  # fmt: skip

    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.stderr
    assert reason in error_lines[0]
    assert not token or token not in result.stderr + result.stdout
    assert not SlackWorkspace.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_connect_slack_accepts_a_rotating_bot_token_from_the_command_line(manage_py):
    from tests.factories import tenant_make

    tenant = tenant_make()
    token = "xoxe.xoxb-1-MS0yLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkwMTIz"

    result = manage_py(
        "connect_slack", tenant.schema_name, "--team-id", "T0B4", "--bot-token", token,
        "--bot-user-id", "U0BOT9",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert SlackWorkspace.objects.get(team_id="T0B4").bot_token == token
