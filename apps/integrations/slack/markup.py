"""Slack's message markup read as plain words (for searching the knowledge base).

Slack writes people, channels and links in angle brackets: ``<@U0123>``, ``<#C0123|deploys>``,
``<!here>``, ``<https://grafana.acme.test/d/x|the dashboard>``; code goes in fences. None of
that is a word someone searches for, except a link's label and the code itself (error strings
are what retrieval needs most)."""

from __future__ import annotations

import html
import re

_ANGLE_RE = re.compile(r"<([^<>\n]{1,500})>")
_FENCE_RE = re.compile(r"```[a-zA-Z0-9_+-]*|`")


def _angle_replaced(match: re.Match) -> str:
    inside = match.group(1)
    target, _, label = inside.partition("|")
    if target.startswith(("@", "!")):
        return " "  # a person, a user group, @here / @channel
    if target.startswith("#"):
        return f" {label} " if label else " "  # a channel: its name when Slack gives it
    if label:
        return f" {label} "  # a link with a label: the words people see
    return f" {target} "  # a bare link: its address


def slack_text_searchable(text: str) -> str:
    """``text`` without Slack's markup: mentions dropped, channel names and link labels kept,
    code kept without its fences, entities (&amp; &lt; &gt;) decoded. Linear time."""
    text = _ANGLE_RE.sub(_angle_replaced, text)
    text = _FENCE_RE.sub(" ", text)
    return " ".join(html.unescape(text).split())
