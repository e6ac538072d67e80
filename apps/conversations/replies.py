"""What an agent says around its answers, as neutral chat messages (the platform renders them).
Every user-facing string goes through i18n."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.integrations.bases.chat import OutgoingMessage, Tone


def thinking(agent_name: str) -> OutgoingMessage:
    return OutgoingMessage(
        text=_("%(agent)s is thinking…") % {"agent": agent_name}, tone=Tone.PROGRESS
    )


def writing_note(agent_name: str) -> str:
    return _("%(agent)s is writing…") % {"agent": agent_name}


def sources_note(sources: list[tuple[int, str]]) -> str:
    """ "Sources: [1] Deploy runbook › Rollback · [3] …" (the sources the answer cites, by
    their numbers in it), or that nothing matched."""
    if not sources:
        return ":books: " + _("No matching document in your knowledge base.")
    numbered = " · ".join(f"[{n}] {label}" for n, label in sources)
    return ":books: " + _("Sources: %(sources)s") % {"sources": numbered}


def memory_source(*, where: str, day: str) -> str:
    """An earlier answer as a source: "earlier answer in #deploys, 2026-11-30"."""
    if where:
        return _("earlier answer in %(channel)s, %(date)s") % {"channel": where, "date": day}
    return _("earlier answer, %(date)s") % {"date": day}


# How each outcome of a tool call is marked under the answer.
ACTION_ICONS = {
    "done": ":white_check_mark:",
    "waiting": ":hourglass_flowing_sand:",
    "awaiting": ":ballot_box_with_ballot:",
    "refused": ":no_entry:",
    "invalid": ":warning:",
    "failed": ":x:",
}


def action_note(*, outcome: str, note: str, link: str = "") -> str:
    """One line per action under the answer: "✅ Created Jira issue PAY-12 — open"."""
    line = f"{ACTION_ICONS.get(outcome, ':gear:')} {note}"
    if link:
        label = _("open")
        line += f" — [{label}]({link})"
    return line


def running_tool(agent_name: str, tool_name: str) -> str:
    return _("%(agent)s is running %(tool)s…") % {"agent": agent_name, "tool": tool_name}


def answer(
    *,
    agent_name: str,
    agent_title: str,
    text: str,
    model: str,
    seconds: float,
    sources: list[tuple[int, str]] | None = None,
    answer_id: int | None = None,
    actions: list[str] | None = None,
) -> OutgoingMessage:
    """The finished answer: the model's text, what the agent did (``actions``, one line
    each), where it came from, who answered, and 👍/👎."""
    footer = _("%(agent)s · %(title)s · %(model)s · %(seconds).1f s") % {
        "agent": agent_name,
        "title": agent_title,
        "model": model,
        "seconds": seconds,
    }
    notes = (
        list(actions or []) + ([sources_note(sources)] if sources is not None else []) + [footer]
    )
    return OutgoingMessage(
        text=text.strip() or _("(the model returned an empty answer)"),
        notes=tuple(notes),
        feedback_value=str(answer_id) if answer_id is not None else "",
    )


def llm_unavailable(agent_name: str) -> OutgoingMessage:
    text = _(
        "%(agent)s can't reach its language model right now; your message is saved and will "
        "be answered as soon as the model is back."
    ) % {"agent": agent_name}
    return OutgoingMessage(text=text, tone=Tone.WARNING)


def llm_error(agent_name: str, reason: str) -> OutgoingMessage:
    text = _(
        "%(agent)s's language model could not answer (%(reason)s). Your message is saved; an "
        "administrator can retry it."
    ) % {"agent": agent_name, "reason": reason}
    return OutgoingMessage(text=text, tone=Tone.ERROR)


def gave_up(agent_name: str, *, attempts: int) -> OutgoingMessage:
    text = _(
        "%(agent)s could not answer after %(attempts)s attempts and stopped trying. Your "
        "message is saved; an administrator can retry it."
    ) % {"agent": agent_name, "attempts": attempts}
    return OutgoingMessage(text=text, tone=Tone.ERROR)
