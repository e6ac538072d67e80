"""What a Slack bot token, team ID and bot user ID look like, as far as Jamono may check.

Slack treats a token's body as opaque and changes its shape (with token rotation on, bot tokens
are ``xoxe.xoxb-1-<opaque>``), so only the prefix is ours to check, plus bounds that catch a
paste gone wrong: a length no real token has, whitespace or control characters inside.
"""

from __future__ import annotations

import re

BOT_TOKEN_PREFIXES = ("xoxb-", "xoxe.xoxb-")
# Bot tokens seen in the wild are 50-80 characters; anything far outside is not a token.
BOT_TOKEN_MIN_LENGTH = 12
BOT_TOKEN_MAX_LENGTH = 512
# Printable ASCII without spaces: a token is an HTTP header value and a form field.
_TOKEN_CHARACTERS_RE = re.compile(r"^[\x21-\x7e]+$")
TEAM_ID_RE = re.compile(r"^[TE][A-Z0-9]{2,31}$")
USER_ID_RE = re.compile(r"^[UWB][A-Z0-9]{2,31}$")


def bot_token_problem(token: str) -> str | None:
    """Why ``token`` cannot be a Slack bot token (one line, never the token), or None."""
    if not token:
        return "invalid bot token: it is empty"
    if not token.startswith(BOT_TOKEN_PREFIXES):
        return "invalid bot token: expected a bot token starting with xoxb- or xoxe.xoxb-"
    if not BOT_TOKEN_MIN_LENGTH <= len(token) <= BOT_TOKEN_MAX_LENGTH:
        return (
            f"invalid bot token: {len(token)} characters, expected "
            f"{BOT_TOKEN_MIN_LENGTH}-{BOT_TOKEN_MAX_LENGTH}"
        )
    if not _TOKEN_CHARACTERS_RE.match(token):
        return "invalid bot token: it contains spaces or characters a token never has"
    return None


def team_id_problem(team_id: str) -> str | None:
    if TEAM_ID_RE.match(team_id or ""):
        return None
    return f"invalid Slack team ID {team_id!r}: expected T… or E… (uppercase letters and digits)"


def bot_user_id_problem(bot_user_id: str) -> str | None:
    if USER_ID_RE.match(bot_user_id or ""):
        return None
    return f"invalid bot user ID {bot_user_id!r}: expected U… or W… (uppercase letters, digits)"
