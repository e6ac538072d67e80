"""Running one tool call the model asked for: check it, run it (retrying what is transient),
and keep it in the audit trail, whatever happens.

Refused before running: a tool that is not offered to this agent (unknown, switched off, its
integration not connected) and arguments that do not match the tool's schema. The model gets
the reason; nothing runs. A call is named by (question, tool, ordinal) across retries of the
answer: a write already done is never done again, its recorded result is returned instead.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from apps.core.logging import REDACTED, redact
from apps.integrations.bases.llm import ToolCall
from apps.tools.activity import tool_call_finished_publish
from apps.tools.models import ToolCallRecord
from apps.tools.registry import Tool, ToolContext, ToolRefused, ToolUnavailable

logger = logging.getLogger(__name__)

SECRET_ARGUMENT = re.compile(r"(?i)token|secret|password|passwd|api_?key|authorization|cookie")


class CallOutcome:
    DONE = "done"
    REFUSED = "refused"  # the tool (or the service behind it) said no
    INVALID = "invalid"  # not offered, or arguments that do not match: nothing ran
    WAITING = "waiting"  # kept, retried later (an incident waiting for the tracker)
    FAILED = "failed"
    REPEATED = "repeated"  # the same call again: not run twice
    AWAITING = "awaiting"  # held for the people who must approve it (a vote): not run yet


@dataclass(frozen=True)
class CallReport:
    """What came of one call: ``model_text`` goes back to the model (capped, no secrets);
    ``note`` is the plain-words line for the person; ``link`` is shown when set."""

    name: str
    outcome: str
    model_text: str
    note: str
    link: str = ""
    record_id: int | None = None


def arguments_problem(tool: Tool, arguments: Any) -> str | None:
    """Why ``arguments`` do not fit the tool's schema, in plain words; None when they do."""
    if not isinstance(arguments, dict):
        return _("the arguments must be a JSON object")
    validator = Draft202012Validator(tool.parameters, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    problems = []
    for error in errors[:3]:
        where = ".".join(str(part) for part in error.absolute_path)
        problems.append(f"{where}: {error.message}" if where else error.message)
    return "; ".join(problems)[:500]


def arguments_masked(arguments: Any) -> Any:
    """The arguments as the audit keeps them: values of secret-looking keys, and anything
    shaped like a token, replaced."""
    if isinstance(arguments, dict):
        return {
            str(key)[:100]: REDACTED
            if SECRET_ARGUMENT.search(str(key))
            else arguments_masked(value)
            for key, value in arguments.items()
        }
    if isinstance(arguments, list):
        return [arguments_masked(item) for item in arguments]
    if isinstance(arguments, str):
        return redact(arguments)
    return arguments


def model_text_capped(payload: dict[str, Any]) -> str:
    """A tool's result as the model reads it: JSON, secrets scrubbed, cut to the budget."""
    text = redact(json.dumps(payload, ensure_ascii=False, default=str))
    limit = settings.TOOL_RESULT_MAX_CHARS
    if len(text) <= limit:
        return text
    return text[:limit] + f" …[cut: {len(text) - limit} more characters]"


# Asked about every checked call before it runs: a report when the call must not run now
# (it waits for an approval), None to run it. Given by the caller (the answer pipeline passes
# the votes' gate), so this layer knows nothing of votes.
CallGate = Callable[[ToolContext, Tool, dict, int], "CallReport | None"]


def tool_call_run(
    context: ToolContext,
    call: ToolCall,
    *,
    offered: dict[str, Tool],
    ordinal: int = 1,
    gate: CallGate | None = None,
) -> CallReport:
    """Check, run and audit one call. Never raises for what the tool or its service does.
    ``gate``: may hold a checked call back (see ``CallGate``)."""
    tool = offered.get(call.name)
    if tool is None:
        reason = _("there is no tool named “%(name)s” available to you") % {"name": call.name}
        return _invalid(context, call, None, reason)
    problem = arguments_problem(tool, call.arguments)
    if problem:
        return _invalid(context, call, tool, problem)
    if gate is not None:
        held = gate(context, tool, call.arguments, ordinal)
        if held is not None:
            return held
    record, earlier = _record_claimed(context, tool, call.arguments, ordinal)
    if earlier is not None:
        return earlier
    context = replace(context, call_key=f"{context.schema_name}-call-{record.pk}")
    return _run(context, tool, call.arguments, record)


def _invalid(context: ToolContext, call: ToolCall, tool: Tool | None, reason: str) -> CallReport:
    record = ToolCallRecord.objects.create(
        agent=context.agent,
        conversation_id=context.conversation_id,
        question=None,  # not a call that ran: outside the once-per-question constraint
        requested_by=context.requested_by,
        tool=call.name[:64],
        risk=tool.risk if tool else "",
        arguments=arguments_masked(call.arguments)
        if isinstance(call.arguments, dict | list)
        else {"raw": redact(str(call.arguments))[:2000]},
        status=ToolCallRecord.Status.REFUSED,
        error=reason,
        finished_at=timezone.now(),
    )
    logger.info("Tool call refused before running: tool=%s reason=%s", call.name[:64], reason)
    return CallReport(
        name=call.name,
        outcome=CallOutcome.INVALID,
        model_text=model_text_capped({"error": reason}),
        note=_("Could not use %(tool)s: %(reason)s") % {"tool": call.name[:64], "reason": reason},
        record_id=record.pk,
    )


def _record_claimed(
    context: ToolContext, tool: Tool, arguments: dict, ordinal: int
) -> tuple[ToolCallRecord, CallReport | None]:
    """The audit row of this call: a new one, or the one an earlier attempt of the answer
    left. A call that already ended (done, kept waiting, refused) is not run again."""
    fields = {
        "agent": context.agent,
        "conversation_id": context.conversation_id,
        "requested_by": context.requested_by,
        "risk": tool.risk,
        "arguments": arguments_masked(arguments),
        "status": ToolCallRecord.Status.RUNNING,
    }
    if context.question_id is None:
        return ToolCallRecord.objects.create(tool=tool.name, ordinal=ordinal, **fields), None
    try:
        with transaction.atomic():
            record, created = ToolCallRecord.objects.get_or_create(
                question_id=context.question_id, tool=tool.name, ordinal=ordinal, defaults=fields
            )
    except IntegrityError:
        record = ToolCallRecord.objects.get(
            question_id=context.question_id, tool=tool.name, ordinal=ordinal
        )
        created = False
    if created or record.status in (ToolCallRecord.Status.RUNNING, ToolCallRecord.Status.FAILED):
        return record, None
    return record, _report_of(record)


def _report_of(record: ToolCallRecord) -> CallReport:
    """An earlier attempt's outcome, told again rather than redone."""
    if record.status == ToolCallRecord.Status.DONE:
        return CallReport(
            name=record.tool,
            outcome=CallOutcome.DONE,
            model_text=model_text_capped(record.result),
            note=record.summary,
            link=str(record.result.get("url", "")) if isinstance(record.result, dict) else "",
            record_id=record.pk,
        )
    outcome = (
        CallOutcome.WAITING
        if record.status == ToolCallRecord.Status.WAITING
        else CallOutcome.REFUSED
    )
    return CallReport(
        name=record.tool,
        outcome=outcome,
        model_text=model_text_capped({"error": record.error, "note": record.summary}),
        note=record.summary or record.error,
        record_id=record.pk,
    )


def _run(context: ToolContext, tool: Tool, arguments: dict, record: ToolCallRecord) -> CallReport:
    started = time.monotonic()
    attempts = max(1, settings.TOOL_RETRY_ATTEMPTS)
    error: Exception | None = None
    for attempt in range(1, attempts + 1):
        record.attempts += 1
        try:
            outcome = tool.run(context, arguments)
        except ToolUnavailable as exc:
            error = exc
            logger.warning(
                "Tool %s unavailable (attempt %d/%d): %s", tool.name, attempt, attempts, exc
            )
            if attempt < attempts:
                time.sleep(settings.TOOL_RETRY_BACKOFF_S * 2 ** (attempt - 1))
            continue
        except ToolRefused as exc:
            return _not_done(context, tool, arguments, record, exc, started, waiting=False)
        except Exception as exc:  # a tool's bug must not take the answer down
            logger.exception("Tool %s failed", tool.name)
            _finish(record, ToolCallRecord.Status.FAILED, started, error=f"{type(exc).__name__}")
            return CallReport(
                name=tool.name,
                outcome=CallOutcome.FAILED,
                model_text=model_text_capped({"error": "the tool failed unexpectedly"}),
                note=_("%(tool)s failed unexpectedly.") % {"tool": tool.name},
                record_id=record.pk,
            )
        record.result = outcome.result
        record.summary = outcome.summary[:300]
        _finish(record, ToolCallRecord.Status.DONE, started)
        logger.info("Tool %s done in %d ms", tool.name, record.duration_ms)
        return CallReport(
            name=tool.name,
            outcome=CallOutcome.DONE,
            model_text=model_text_capped(outcome.result),
            note=outcome.summary,
            link=outcome.link,
            record_id=record.pk,
        )
    return _not_done(context, tool, arguments, record, error, started, waiting=True)


def _not_done(
    context: ToolContext,
    tool: Tool,
    arguments: dict,
    record: ToolCallRecord,
    error: Exception,
    started: float,
    *,
    waiting: bool,
) -> CallReport:
    """Refused by the service, or still unavailable after the retries. A tool that keeps
    such requests (an incident) keeps it; the person is told what happens next."""
    note = ""
    if tool.keep_undone is not None:
        note = tool.keep_undone(context, arguments, record, error)
    kept = bool(note)
    if not note:
        note = (
            _("%(tool)s could not reach its service: %(reason)s")
            if waiting
            else _("%(tool)s was refused: %(reason)s")
        ) % {"tool": tool.name, "reason": str(error)[:300]}
    status = (
        ToolCallRecord.Status.WAITING
        if kept
        else (ToolCallRecord.Status.FAILED if waiting else ToolCallRecord.Status.REFUSED)
    )
    record.summary = note[:300]
    _finish(record, status, started, error=str(error)[:2000])
    return CallReport(
        name=tool.name,
        outcome=CallOutcome.WAITING
        if kept
        else (CallOutcome.FAILED if waiting else CallOutcome.REFUSED),
        model_text=model_text_capped({"error": str(error)[:500], "what_happens_next": note}),
        note=note,
        record_id=record.pk,
    )


def _finish(record: ToolCallRecord, status: str, started: float, *, error: str = "") -> None:
    record.status = status
    record.error = error
    record.duration_ms = int((time.monotonic() - started) * 1000)
    record.finished_at = timezone.now()
    record.save()
    tool_call_finished_publish(record)
