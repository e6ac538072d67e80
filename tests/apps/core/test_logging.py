import logging

from apps.core.logging import SecretRedactingFilter, redact


def test_redact_scrubs_slack_and_openai_tokens_and_auth_headers():
    text = (
        "token=xoxb-123-456-abcDEF user=xoxp-9-9-zz app=xapp-1-A1-2-ff "
        "key=sk-abcdefghijklmnopqrstuvwx Authorization: Bearer eyJhbGciOi.payload"
    )
    cleaned = redact(text)
    for secret in ("abcDEF", "xoxp-9", "xapp-1", "sk-abcdef", "eyJhbGciOi"):
        assert secret not in cleaned
    assert cleaned.count("[redacted]") == 5


def test_filter_freezes_the_scrubbed_message_so_no_handler_can_re_render_it():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "posting with %s", ("xoxb-1-2-abc",), None
    )

    assert SecretRedactingFilter().filter(record)

    assert record.getMessage() == "posting with [redacted]"
    assert record.args is None


def test_console_handler_of_the_project_carries_the_filter():
    root_handlers = logging.getLogger().handlers
    assert any(
        isinstance(f, SecretRedactingFilter) for handler in root_handlers for f in handler.filters
    )
