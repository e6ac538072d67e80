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


def test_redact_scrubs_sensitive_query_string_values_and_keeps_the_rest():
    line = (
        '127.0.0.1:50000 - "GET /slack/oauth_redirect?code=XYZ123&state=ST4TE&lang=fr'
        '&invite=INV1TE&access_token=T0KEN HTTP/1.1" 302'
    )

    cleaned = redact(line)

    for secret in ("XYZ123", "ST4TE", "INV1TE", "T0KEN"):
        assert secret not in cleaned
    assert "code=[redacted]&state=[redacted]&lang=fr&invite=[redacted]" in cleaned


def test_uvicorns_access_log_goes_through_the_filter_once_django_configured_logging(capfd):
    import logging.config

    from django.conf import settings
    from uvicorn.config import LOGGING_CONFIG

    # What a uvicorn worker does: its own logging first, then Django's as the app loads.
    logging.config.dictConfig(LOGGING_CONFIG)
    try:
        logging.config.dictConfig(settings.LOGGING)
        capfd.readouterr()

        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:50000",
            "GET",
            "/healthz?invite=SECRET&code=XYZ",
            "1.1",
            200,
        )
    finally:
        logging.config.dictConfig(settings.LOGGING)

    written = capfd.readouterr()
    output = written.out + written.err
    assert "/healthz?invite=[redacted]&code=[redacted]" in output
    assert "SECRET" not in output
    assert "XYZ" not in output


def test_uvicorns_log_level_still_applies_once_django_configured_logging():
    import logging.config

    from django.conf import settings
    from uvicorn.config import LOGGING_CONFIG

    logging.config.dictConfig(LOGGING_CONFIG)
    try:
        for name in ("uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).setLevel(logging.WARNING)  # what --log-level warning does
        logging.config.dictConfig(settings.LOGGING)

        names = ("uvicorn.error", "uvicorn.access")
        levels = {name: logging.getLogger(name).level for name in names}
    finally:
        logging.config.dictConfig(settings.LOGGING)

    assert levels == {"uvicorn.error": logging.WARNING, "uvicorn.access": logging.WARNING}


def test_uvicorns_error_log_goes_through_the_filter_too():
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    handlers = logging.getLogger("uvicorn.error").handlers

    assert handlers
    assert all(any(isinstance(f, SecretRedactingFilter) for f in h.filters) for h in handlers)
