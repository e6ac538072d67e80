"""The tokens of invitation and password-reset links are credentials: scrubbed from every
log line (uvicorn's access log and Django's "Not Found" warnings write request paths)."""

from apps.core.logging import redact


def test_invitation_and_reset_tokens_in_paths_are_scrubbed():
    line = (
        '"GET /invite/Zq3xY_-9abcDEF/ HTTP/1.1" 200 and '
        '"GET /reset/MQ/dix86r-e452afbc0f60ea97/ HTTP/1.1" 302'
    )

    cleaned = redact(line)

    assert "Zq3xY" not in cleaned and "dix86r" not in cleaned
    assert "/invite/[redacted]/" in cleaned and "/reset/MQ/[redacted]/" in cleaned
