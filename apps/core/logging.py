"""A logging filter that scrubs secrets from every record before any handler writes it."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# Slack tokens (bot, user, app-level, refresh, config), OpenAI keys, Fernet ciphertexts,
# and "Authorization: Bearer/Basic …" values.
SECRET_PATTERNS = [
    re.compile(r"xox[abeprs]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[^\s'\"]+"),
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
