"""Block Kit: neutral messages (``apps.integrations.bases.chat``) rendered for Slack, and the
slash commands' replies. Every user-facing string goes through i18n."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.integrations.bases.chat import ChatButton, OutgoingMessage, Tone

SECTION_TEXT_LIMIT = 3000  # Slack's limit for one section block's text
MAX_BLOCKS = 50
FALLBACK_TEXT_LIMIT = 3900  # the notification text; Slack truncates long ones anyway


@dataclass(frozen=True)
class SlackMessage:
    text: str  # notification / fallback text
    blocks: list[dict]


def markdown_to_mrkdwn(text: str) -> str:
    """The Markdown models write, turned into Slack's mrkdwn (bold, headings, links)."""
    lines = []
    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            lines.append("```")
            continue
        if not in_code:
            line = re.sub(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", r"*\1*", line)
            line = re.sub(r"\*\*(.+?)\*\*", r"*\1*", line)
            line = re.sub(r"__(.+?)__", r"*\1*", line)
            line = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"<\2|\1>", line)
            line = re.sub(r"^(\s*)[-*]\s+", r"\1• ", line)
        lines.append(line)
    return "\n".join(lines)


def _split(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at paragraph or line ends when possible."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


TONE_ICONS = {
    Tone.PROGRESS: ":hourglass_flowing_sand:",
    Tone.WARNING: ":warning:",
    Tone.ERROR: ":x:",
}

# Classic buttons (any workspace): the value is the feedback value itself.
FEEDBACK_UP_ACTION = "answer_feedback_up"
FEEDBACK_DOWN_ACTION = "answer_feedback_down"
# Slack's feedback_buttons element (workspaces with AI features): one action, the verdict
# travels in the value as "up:<feedback value>" / "down:<feedback value>".
FEEDBACK_ELEMENT_ACTION = "answer_feedback"


def feedback_buttons(value: str) -> dict:
    """👍/👎 as two classic buttons, for every workspace."""
    return {
        "type": "actions",
        "block_id": f"feedback-{value}",
        "elements": [
            {
                "type": "button",
                "action_id": FEEDBACK_UP_ACTION,
                "text": {"type": "plain_text", "text": "👍", "emoji": True},
                "value": value,
                "accessibility_label": _("This answer helped"),
            },
            {
                "type": "button",
                "action_id": FEEDBACK_DOWN_ACTION,
                "text": {"type": "plain_text", "text": "👎", "emoji": True},
                "value": value,
                "accessibility_label": _("This answer was wrong or unhelpful"),
            },
        ],
    }


def feedback_element(value: str) -> dict:
    """👍/👎 as Slack's own feedback_buttons element (in a context_actions block)."""
    return {
        "type": "context_actions",
        "block_id": f"feedback-{value}",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ELEMENT_ACTION,
                "positive_button": {
                    "text": {"type": "plain_text", "text": "👍"},
                    "value": f"up:{value}",
                    "accessibility_label": _("This answer helped"),
                },
                "negative_button": {
                    "text": {"type": "plain_text", "text": "👎"},
                    "value": f"down:{value}",
                    "accessibility_label": _("This answer was wrong or unhelpful"),
                },
            }
        ],
    }


def _button(button: ChatButton) -> dict:
    element = {
        "type": "button",
        "action_id": button.action_id,
        "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
        "value": button.value,
    }
    if button.style in {"primary", "danger"}:
        element["style"] = button.style
    return element


def _body_blocks(text: str, tone: str, limit: int) -> list[dict]:
    icon = TONE_ICONS.get(tone, "")
    body = f"{icon} {text}" if icon else text
    if tone == Tone.PROGRESS:
        return [_context(body)]
    return [_section(piece) for piece in _split(body, SECTION_TEXT_LIMIT)[:limit]]


def footer_blocks(message: OutgoingMessage, *, native_feedback: bool = False) -> list[dict]:
    """What goes under the body: notes, buttons, feedback."""
    blocks = [_context(markdown_to_mrkdwn(note)) for note in message.notes]
    if message.buttons:
        blocks.append({"type": "actions", "elements": [_button(b) for b in message.buttons[:25]]})
    if message.feedback_value:
        feedback = feedback_element if native_feedback else feedback_buttons
        blocks.append(feedback(message.feedback_value))
    return blocks


def message_blocks(message: OutgoingMessage, *, native_feedback: bool = False) -> SlackMessage:
    """A neutral message as Block Kit: the body (Markdown turned into mrkdwn, split into
    sections within Slack's limits), then its notes, buttons and feedback."""
    body = markdown_to_mrkdwn(message.text.strip())
    footer = footer_blocks(message, native_feedback=native_feedback)
    blocks = _body_blocks(body, message.tone, MAX_BLOCKS - len(footer)) if body else []
    return SlackMessage(text=body[:FALLBACK_TEXT_LIMIT] or " ", blocks=[*blocks, *footer])


def streaming_blocks(partial_text: str, progress_note: str) -> SlackMessage:
    """An answer still being written (chat.update fallback): what came so far, then a note."""
    body = markdown_to_mrkdwn(partial_text)
    pieces = _split(body, SECTION_TEXT_LIMIT)[: MAX_BLOCKS - 1]
    note = [_context(f":writing_hand: {progress_note}")] if progress_note else []
    return SlackMessage(
        text=body[:FALLBACK_TEXT_LIMIT], blocks=[*(_section(p) for p in pieces), *note]
    )


def fields_message(*, title: str, rows: list[tuple[str, str]], footer: str = "") -> SlackMessage:
    """A heading and label/value pairs (status, metrics)."""
    blocks: list[dict] = [_section(f"*{title}*")]
    for start in range(0, len(rows), 10):  # a section holds at most 10 fields
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{label}*\n{value}"}
                    for label, value in rows[start : start + 10]
                ],
            }
        )
    if footer:
        blocks.append(_context(footer))
    text = title + "\n" + "\n".join(f"{label}: {value}" for label, value in rows)
    return SlackMessage(text=text, blocks=blocks)


def text_message(text: str) -> SlackMessage:
    return SlackMessage(text=text, blocks=[_section(text)])
