import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from apps.core import crypto
from apps.integrations.jira.models import JiraConnection
from apps.integrations.slack.models import SlackWorkspace
from tests.factories import SlackWorkspaceFactory


def test_encrypt_round_trips_and_hides_the_plaintext():
    ciphertext = crypto.encrypt("xoxb-secret-value")
    assert "secret-value" not in ciphertext
    assert crypto.decrypt(ciphertext) == "xoxb-secret-value"


def test_two_encryptions_of_the_same_value_differ():
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_a_value_encrypted_with_an_unknown_key_is_refused(settings):
    ciphertext = crypto.encrypt("v")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(ciphertext)


def test_rotation_moves_every_secret_to_the_new_first_key(settings, tenant_a, capsys):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    workspace = SlackWorkspaceFactory(tenant=tenant_a)
    token = workspace.bot_token
    with schema_context(tenant_a.schema_name):  # a tenant model with a secret too
        JiraConnection.objects.create(
            url="https://acme.atlassian.net", email="bot@acme.test", api_token="ATATT-jira-secret"
        )

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: still readable
    assert SlackWorkspace.objects.get(pk=workspace.pk).bot_token == token
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bot_token FROM workspaces_slackworkspace WHERE id=%s", [workspace.pk]
        )
        assert token not in cursor.fetchone()[0]
    with schema_context(tenant_a.schema_name):
        assert JiraConnection.objects.get().api_token == "ATATT-jira-secret"
    output = capsys.readouterr().out
    assert "workspaces.SlackWorkspace: 1 value(s) re-encrypted" in output
    assert "jira_integration.JiraConnection: 1 value(s) re-encrypted" in output


def test_a_malformed_configured_key_is_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        crypto.encrypt("v")
