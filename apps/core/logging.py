"""A logging filter that scrubs secrets from every record before any handler writes it."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# Query-string parameters whose value grants something: invitations, OAuth codes and states,
# tokens, passwords, signatures. Their values are scrubbed wherever a URL is logged (uvicorn's
# access log writes every request's full query string).
SENSITIVE_QUERY_PARAMETERS = (
    "invite",
    "code",
    "state",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "secret",
    "client_secret",
    "api_key",
    "signature",
    "sig",
)

# Slack tokens (bot, user, app-level, refresh, config), OpenAI keys, Atlassian API tokens,
# Fernet ciphertexts, "Authorization: Bearer/Basic …" values, and the sensitive query-string
# values above.
SECRET_PATTERNS = [
    re.compile(r"xox[abeprs]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),
    # Atlassian (Jira) API tokens.
    re.compile(r"ATATT[A-Za-z0-9_=-]{16,}"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[^\s'\"]+"),
    re.compile(r"(?i)([?&](?:" + "|".join(SENSITIVE_QUERY_PARAMETERS) + r")=)[^&#\s'\"]+"),
    # Tokens in a path: an invitation's (/invite/<token>/) and a password reset's
    # (/reset/<uidb64>/<token>/), both credentials while they are unused.
    re.compile(r"(/invite/)[A-Za-z0-9_-]+"),
    re.compile(r"(/reset/[A-Za-z0-9_-]+/)[A-Za-z0-9_-]+"),
]


def redact(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


class SecretRedactingFilter(logging.Filter):
    """Formats the message once, scrubs it, and freezes it (args cleared) so no handler
    can re-render the secret from the original arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
