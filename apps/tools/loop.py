"""The tool loop: model → tool call(s) → check → run → result back as a ``tool`` message →
model, until the model answers in words.

Bounded: at most TOOL_LOOP_MAX_STEPS model turns, never the same call (tool and arguments)
twice, and a model that keeps making calls that cannot run (unknown tool, wrong arguments) is
told why once; the second time the loop stops and the person is told.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from apps.integrations.bases.llm import ChatMessage, LLMProvider, ToolCall, ToolSpec, ToolTurn
from apps.tools.executor import (
    CallGate,
    CallOutcome,
    CallReport,
    model_text_capped,
    tool_call_run,
)
from apps.tools.registry import Tool, ToolContext

logger = logging.getLogger(__name__)

# A model asking for more calls than this in one turn gets the first ones run.
MAX_CALLS_PER_TURN = 5
# Invalid calls tolerated: the first is explained to the model, the next one ends the loop.
MAX_INVALID_CALLS = 2

TOOLS_GUIDANCE = (
    "You can act through the tools offered to you. Use a tool only when the person asks for "
    "that action or it is needed to answer; never invent what a tool would return (ticket "
    "keys, links, times). When you have what you need, answer in words: say what you did and "
    "give the links the tools returned. It is now {now} in the time zone of the person asking "
    "({zone}); write dates and times for tools in that zone."
)
FINAL_ANSWER_REQUEST = (
    "Stop using tools now. Answer the person with what was done and what was found so far."
)


def tools_tokens_estimate(tools: list[Tool]) -> int:
    """What the tools' descriptions take of the model's context (the server puts them in the
    prompt): estimated like the prompt, from their JSON."""
    described = json.dumps(
        [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in tools]
    )
    return len(described) // 3 + 10 * len(tools)


def tools_guidance(now_local: datetime, zone_name: str) -> str:
    return TOOLS_GUIDANCE.format(now=now_local.strftime("%A %Y-%m-%d %H:%M"), zone=zone_name)


@dataclass
class LoopResult:
    text: str
    model: str
    reports: list[CallReport] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    duration_ms: int = 0
    turns: int = 0
    stopped_early: bool = False  # too many invalid calls
    mode: str = "native"  # how the model made its calls: "native" or "json"


def _signature(call: ToolCall) -> str:
    return call.name + ":" + json.dumps(call.arguments, sort_keys=True, default=str)


def tool_loop_run(
    *,
    llm: LLMProvider,
    messages: list[ChatMessage],
    tools: list[Tool],
    context: ToolContext,
    model: str,
    temperature: float,
    context_size: int | None = None,
    on_call: Callable[[str], None] | None = None,
    on_delta: Callable[[str], None] | None = None,
    gate: CallGate | None = None,
) -> LoopResult:
    """Let the model use ``tools`` until it answers. ``on_call(tool name)`` is told before
    each call runs (to show progress); ``on_delta`` gets the model's words as they come, in
    every turn (a turn's words before its calls are part of the answer), and the result's
    text is then all of them. ``gate`` may hold a call back for approval (the executor's
    ``CallGate``). LLM errors propagate (the caller reports them)."""
    messages = list(messages)
    words = _Words(on_delta) if on_delta is not None else None

    specs = [
        ToolSpec(name=t.name, description=t.description, parameters=t.parameters) for t in tools
    ]
    offered = {t.name: t for t in tools}
    result = LoopResult(text="", model=model)
    done: dict[str, CallReport] = {}
    ordinals: Counter[str] = Counter()
    invalid = 0
    for _step in range(max(1, settings.TOOL_LOOP_MAX_STEPS)):
        turn = llm.chat_tools(
            messages,
            tools=specs,
            model=model,
            temperature=temperature,
            on_delta=_turn_of(words),
            context_size=context_size,
        )
        _count(result, turn)
        if not turn.tool_calls:
            result.text = words.text if words else turn.text
            return result
        messages.append(
            ChatMessage(role="assistant", content=turn.text, tool_calls=turn.tool_calls)
        )
        for call in turn.tool_calls[:MAX_CALLS_PER_TURN]:
            report = _call(context, call, offered, done, ordinals, on_call, gate)
            # A call that cannot run, or the same call again: the model is going in circles.
            if report.outcome in (CallOutcome.INVALID, CallOutcome.REPEATED):
                invalid += 1
            if report.outcome != CallOutcome.REPEATED:
                result.reports.append(report)
            messages.append(
                ChatMessage(
                    role="tool",
                    content=report.model_text,
                    tool_call_id=call.id,
                    tool_name=call.name,
                )
            )
        if invalid >= MAX_INVALID_CALLS:
            logger.info("Tool loop stopped: %d calls could not run", invalid)
            result.stopped_early = True
            result.text = words.text if words else turn.text
            return result
    messages.append(ChatMessage(role="user", content=FINAL_ANSWER_REQUEST))
    turn = llm.chat_tools(
        messages,
        tools=[],
        model=model,
        temperature=temperature,
        on_delta=_turn_of(words),
        context_size=context_size,
    )
    _count(result, turn)
    result.text = words.text if words else turn.text
    return result


class _Words:
    """The model's words over all turns, passed on as they come; a new turn's words start
    after a blank line."""

    def __init__(self, on_delta: Callable[[str], None]):
        self.on_delta = on_delta
        self.pieces: list[str] = []
        self.turn_started = False

    def new_turn(self) -> Callable[[str], None]:
        self.turn_started = True
        return self.take

    def take(self, piece: str) -> None:
        if not self.pieces and not piece.strip():
            return
        if self.turn_started and self.pieces and not self.pieces[-1].endswith("\n"):
            self._pass("\n\n")
        self.turn_started = False
        self._pass(piece)

    def _pass(self, piece: str) -> None:
        self.pieces.append(piece)
        self.on_delta(piece)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def _turn_of(words: _Words | None) -> Callable[[str], None] | None:
    return words.new_turn() if words is not None else None


def _call(
    context: ToolContext,
    call: ToolCall,
    offered: dict[str, Tool],
    done: dict[str, CallReport],
    ordinals: Counter[str],
    on_call: Callable[[str], None] | None,
    gate: CallGate | None = None,
) -> CallReport:
    signature = _signature(call)
    if signature in done:
        earlier = done[signature]
        return CallReport(
            name=call.name,
            outcome=CallOutcome.REPEATED,
            model_text=model_text_capped(
                {
                    "error": _("This exact call was already made; it is not run twice."),
                    "earlier_result": earlier.model_text[:1000],
                }
            ),
            note="",
            record_id=earlier.record_id,
        )
    if call.name in offered and on_call is not None:
        on_call(call.name)
    ordinals[call.name] += 1
    report = tool_call_run(context, call, offered=offered, ordinal=ordinals[call.name], gate=gate)
    done[signature] = report
    return report


def _count(result: LoopResult, turn: ToolTurn) -> None:
    result.turns += 1
    result.model = turn.model or result.model
    result.duration_ms += turn.duration_ms
    if turn.prompt_tokens is not None:
        result.prompt_tokens = (result.prompt_tokens or 0) + turn.prompt_tokens
    if turn.completion_tokens is not None:
        result.completion_tokens = (result.completion_tokens or 0) + turn.completion_tokens
    result.mode = turn.mode
