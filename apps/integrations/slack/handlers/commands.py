"""Slash commands /<agent>-status, /<agent>-help, /<agent>-metrics: answered within the
3-second ack, ephemeral, from real figures."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.conversations.agent_status import agent_metrics_windows, agent_status
from apps.integrations.slack import message_builder

AGENT_COMMAND_RE = re.compile(r"^/([a-z][a-z0-9-]*?)-(status|help|metrics)$")


def _seconds(ms: int | None) -> str:
    return _("n/a") if ms is None else f"{ms / 1000:.1f} s"


def _when(moment) -> str:
    if moment is None:
        return _("never")
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def status_message(agent: Agent) -> message_builder.SlackMessage:
    status = agent_status(agent=agent)
    if status.llm_reachable:
        llm = _("reachable")
        if status.model_available is False:
            llm = _("reachable, but model %(model)s is not installed") % {"model": agent.model}
    else:
        llm = _("unreachable (%(detail)s)") % {"detail": status.llm_detail}
    rows = [
        (_("Agent"), _("enabled") if agent.enabled else _("disabled")),
        (_("Model"), agent.model),
        (_("Language model"), llm),
        (_("Questions in line"), str(status.questions_in_line)),
        (_("Questions waiting"), str(status.waiting_questions)),
        (_("Last answer"), _when(status.last_answer_at)),
    ]
    title = _("%(agent)s status") % {"agent": agent.name}
    return message_builder.fields_message(title=title, rows=rows, footer=agent.title)


def help_message(agent: Agent) -> message_builder.SlackMessage:
    prefix = agent.command_prefix
    commands = "\n".join(
        [
            f"`/{prefix}-status` — " + _("is the agent up, its model, its queue"),
            f"`/{prefix}-help` — " + _("this help"),
            f"`/{prefix}-metrics` — " + _("questions answered, answer time, actions"),
        ]
    )
    examples = "\n".join(f"• @{agent.name} {example}" for example in agent.examples)
    text = (
        f"*{agent.name} — {agent.title}*\n{agent.description}\n\n*"
        + _("Commands")
        + f"*\n{commands}\n\n*"
        + _("Ask in a channel or a DM, for example")
        + f"*\n{examples}\n\n"
        + _("Reply in the thread to follow up; no need to tag %(agent)s again.")
        % {"agent": agent.name}
    )
    return message_builder.text_message(text)


def metrics_message(agent: Agent) -> message_builder.SlackMessage:
    windows = agent_metrics_windows(agent=agent)
    rows = []
    for label, key in ((_("last 24 h"), "24h"), (_("last 7 days"), "7d")):
        metrics = windows[key]
        window = {"window": label}
        rows += [
            (_("Questions answered, %(window)s") % window, str(metrics.questions_answered)),
            (_("Median answer time, %(window)s") % window, _seconds(metrics.median_answer_ms)),
            (_("Actions taken, %(window)s") % window, str(metrics.actions_taken)),
        ]
    title = _("%(agent)s metrics") % {"agent": agent.name}
    return message_builder.fields_message(title=title, rows=rows, footer=agent.title)


BUILDERS = {"status": status_message, "help": help_message, "metrics": metrics_message}


def agent_command_reply(command: str) -> message_builder.SlackMessage:
    match = AGENT_COMMAND_RE.match(command or "")
    if not match:
        return message_builder.text_message(
            _("Unknown command %(command)s.") % {"command": command}
        )
    prefix, verb = match.groups()
    agent = Agent.objects.filter(command_prefix=prefix).first()
    if agent is None:
        return message_builder.text_message(
            _("There is no agent for %(command)s in this workspace.") % {"command": command}
        )
    if not agent.enabled and verb != "status":
        return message_builder.text_message(
            _("%(agent)s is disabled in this workspace; an administrator can enable it.")
            % {"agent": agent.name}
        )
    return BUILDERS[verb](agent)


def on_agent_command(ack, command: dict) -> None:
    reply = agent_command_reply(command.get("command", ""))
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def register(app) -> None:
    app.command(AGENT_COMMAND_RE)(on_agent_command)
