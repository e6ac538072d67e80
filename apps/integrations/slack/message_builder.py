"""Block Kit payloads, built by small functions. Every user-facing string goes through i18n."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

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


def thinking_message(agent_name: str) -> SlackMessage:
    text = _("%(agent)s is thinking…") % {"agent": agent_name}
    return SlackMessage(text=text, blocks=[_context(f":hourglass_flowing_sand: {text}")])


def streaming_message(agent_name: str, partial_text: str) -> SlackMessage:
    body = markdown_to_mrkdwn(partial_text)
    pieces = _split(body, SECTION_TEXT_LIMIT)[: MAX_BLOCKS - 1]
    writing = _("%(agent)s is writing…") % {"agent": agent_name}
    return SlackMessage(
        text=body[:FALLBACK_TEXT_LIMIT],
        blocks=[*(_section(p) for p in pieces), _context(f":writing_hand: {writing}")],
    )


FEEDBACK_UP_ACTION = "answer_feedback_up"
FEEDBACK_DOWN_ACTION = "answer_feedback_down"


def feedback_buttons(answer_id: int) -> dict:
    """👍/👎 under an answer; the value carries the answer's id within its tenant."""
    return {
        "type": "actions",
        "block_id": f"feedback-{answer_id}",
        "elements": [
            {
                "type": "button",
                "action_id": FEEDBACK_UP_ACTION,
                "text": {"type": "plain_text", "text": "👍", "emoji": True},
                "value": str(answer_id),
                "accessibility_label": _("This answer helped"),
            },
            {
                "type": "button",
                "action_id": FEEDBACK_DOWN_ACTION,
                "text": {"type": "plain_text", "text": "👎", "emoji": True},
                "value": str(answer_id),
                "accessibility_label": _("This answer was wrong or unhelpful"),
            },
        ],
    }


def sources_context(sources: list[str]) -> dict:
    """ "Sources: [1] Deploy runbook › Rollback · [2] …", or that nothing matched."""
    if not sources:
        return _context(":books: " + _("No matching document in your knowledge base."))
    numbered = " · ".join(f"[{n}] {label}" for n, label in enumerate(sources, start=1))
    return _context(":books: " + _("Sources: %(sources)s") % {"sources": numbered})


def answer_message(
    *,
    agent_name: str,
    agent_title: str,
    text: str,
    model: str,
    seconds: float,
    sources: list[str] | None = None,
    answer_id: int | None = None,
) -> SlackMessage:
    body = markdown_to_mrkdwn(text.strip()) or _("(the model returned an empty answer)")
    pieces = _split(body, SECTION_TEXT_LIMIT)[: MAX_BLOCKS - 1]
    footer = _("%(agent)s · %(title)s · %(model)s · %(seconds).1f s") % {
        "agent": agent_name,
        "title": agent_title,
        "model": model,
        "seconds": seconds,
    }
    blocks = [*(_section(p) for p in pieces[: MAX_BLOCKS - 3])]
    if sources is not None:
        blocks.append(sources_context(sources))
    if answer_id is not None:
        blocks.append(feedback_buttons(answer_id))
    blocks.append(_context(footer))
    return SlackMessage(text=body[:FALLBACK_TEXT_LIMIT], blocks=blocks)


def llm_unavailable_message(agent_name: str) -> SlackMessage:
    text = _(
        "%(agent)s can't reach its language model right now; your message is saved and will "
        "be answered as soon as the model is back."
    ) % {"agent": agent_name}
    return SlackMessage(text=text, blocks=[_section(f":warning: {text}")])


def llm_error_message(agent_name: str, reason: str) -> SlackMessage:
    text = _(
        "%(agent)s's language model could not answer (%(reason)s). Your message is saved; an "
        "administrator can retry it."
    ) % {"agent": agent_name, "reason": reason}
    return SlackMessage(text=text, blocks=[_section(f":x: {text}")])


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
