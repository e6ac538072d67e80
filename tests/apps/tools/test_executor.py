"""Running one tool call: what is refused before anything runs, what the audit keeps, what the
model reads back, and how transient failures and retried answers are handled."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.integrations.bases.llm import ToolCall
from apps.tools.executor import CallOutcome, arguments_masked, tool_call_run
from apps.tools.models import Risk, ToolCallRecord
from apps.tools.registry import Tool, ToolContext, ToolOutcome, ToolRefused, ToolUnavailable

SCHEMA = {
    "type": "object",
    "properties": {
        "host": {"type": "string", "minLength": 1},
        "count": {"type": "integer", "minimum": 1, "maximum": 3},
        "api_token": {"type": "string"},
    },
    "required": ["host"],
    "additionalProperties": False,
}


class Recorder:
    """A tool body that records its calls and does what the test scripts."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls: list[tuple[ToolContext, dict]] = []

    def __call__(self, context: ToolContext, args: dict) -> ToolOutcome:
        self.calls.append((context, args))
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        return ToolOutcome(result={"host": args["host"], "echo": step}, summary=f"Did {step}")


@pytest.fixture
def nox(tenant_a, settings):
    settings.TOOL_RETRY_BACKOFF_S = 0
    with schema_context(tenant_a.schema_name):
        yield Agent.objects.get(slug="nox")


def tool_with(body, *, name="demo_tool", risk=Risk.WRITE, keep=None) -> Tool:
    return Tool(
        name=name,
        description="demo",
        parameters=SCHEMA,
        risk=risk,
        run=body,
        agents=frozenset({"nox"}),
        keep_undone=keep,
    )


def context_for(agent, *, question_id=None) -> ToolContext:
    from django.db import connection

    return ToolContext(
        agent=agent,
        schema_name=connection.schema_name,
        requested_by="U0ASKER",
        question_id=question_id,
    )


def run(agent, tool, arguments, *, question_id=None, ordinal=1):
    return tool_call_run(
        context_for(agent, question_id=question_id),
        ToolCall(name=tool.name, arguments=arguments),
        offered={tool.name: tool},
        ordinal=ordinal,
    )


def test_a_valid_call_runs_once_and_is_audited(nox):
    body = Recorder("ping")
    tool = tool_with(body)

    report = run(nox, tool, {"host": "db1", "count": 2})

    assert report.outcome == CallOutcome.DONE and report.note == "Did ping"
    assert '"echo": "ping"' in report.model_text
    assert len(body.calls) == 1
    record = ToolCallRecord.objects.get(pk=report.record_id)
    assert record.status == ToolCallRecord.Status.DONE
    assert record.agent == nox and record.requested_by == "U0ASKER"
    assert record.arguments == {"host": "db1", "count": 2}
    assert record.result == {"host": "db1", "echo": "ping"}
    assert record.duration_ms is not None and record.finished_at is not None


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({}, "'host' is a required property"),
        ({"host": "db1", "count": "two"}, "count: 'two' is not of type 'integer'"),
        ({"host": "db1", "count": 9}, "count: 9 is greater than the maximum of 3"),
        ({"host": "db1", "rm": "-rf"}, "Additional properties are not allowed"),
        ("host=db1", "the arguments must be a JSON object"),
    ],
)
def test_arguments_that_do_not_fit_the_schema_are_refused_with_the_reason(nox, arguments, reason):
    body = Recorder()
    report = run(nox, tool_with(body), arguments)

    assert report.outcome == CallOutcome.INVALID
    assert reason in report.model_text and reason in report.note
    assert body.calls == []
    record = ToolCallRecord.objects.get(pk=report.record_id)
    assert record.status == ToolCallRecord.Status.REFUSED and reason in record.error


def test_a_tool_that_is_not_offered_is_refused_and_never_runs(nox):
    body = Recorder()
    offered = tool_with(body, name="offered_tool")

    report = tool_call_run(
        context_for(nox),
        ToolCall(name="drop_database", arguments={"host": "db1"}),
        offered={offered.name: offered},
    )

    assert report.outcome == CallOutcome.INVALID
    assert "no tool named “drop_database”" in report.model_text
    assert body.calls == []
    record = ToolCallRecord.objects.get(pk=report.record_id)
    assert record.tool == "drop_database" and record.risk == ""


def test_secrets_are_masked_in_the_audit_and_the_model_never_reads_them(nox):
    slack_token = "xoxb-1234-5678-abcdefabcdef"

    def leaky(context, args):
        return ToolOutcome(result={"header": f"Authorization: Bearer {slack_token}"}, summary="ok")

    report = run(nox, tool_with(leaky), {"host": "db1", "api_token": "hunter2-secret"})

    record = ToolCallRecord.objects.get(pk=report.record_id)
    assert record.arguments["api_token"] == "[redacted]"
    assert slack_token not in report.model_text and "[redacted]" in report.model_text
    assert arguments_masked({"nested": [{"password": "x"}, f"token {slack_token}"]}) == {
        "nested": [{"password": "[redacted]"}, "token [redacted]"]
    }


def test_tool_output_for_the_model_is_capped(nox, settings):
    settings.TOOL_RESULT_MAX_CHARS = 200

    def huge(context, args):
        return ToolOutcome(result={"body": "x" * 10_000}, summary="big")

    report = run(nox, tool_with(huge), {"host": "db1"})

    assert len(report.model_text) < 260
    assert "more characters]" in report.model_text
    record = ToolCallRecord.objects.get(pk=report.record_id)
    assert len(record.result["body"]) == 10_000  # the audit keeps it whole


def test_a_transient_failure_is_retried_with_backoff_then_succeeds(nox, settings):
    settings.TOOL_RETRY_ATTEMPTS = 3
    body = Recorder(ToolUnavailable("503"), ToolUnavailable("503"), "third time")

    report = run(nox, tool_with(body), {"host": "db1"})

    assert report.outcome == CallOutcome.DONE and len(body.calls) == 3
    assert ToolCallRecord.objects.get(pk=report.record_id).attempts == 3


def test_still_unavailable_after_the_retries_is_kept_by_a_tool_that_keeps_requests(nox, settings):
    settings.TOOL_RETRY_ATTEMPTS = 2
    kept = []

    def keep(context, args, record, error):
        kept.append((context.call_key, record.pk, str(error)))
        return "Kept as incident #1"

    body = Recorder(ToolUnavailable("down"), ToolUnavailable("still down"))
    report = run(nox, tool_with(body, keep=keep), {"host": "db1"})

    assert report.outcome == CallOutcome.WAITING and report.note == "Kept as incident #1"
    record = ToolCallRecord.objects.get(pk=report.record_id)
    assert record.status == ToolCallRecord.Status.WAITING
    assert kept == [(f"{context_for(nox).schema_name}-call-{record.pk}", record.pk, "still down")]


def test_a_refusal_by_the_service_is_reported_not_retried(nox):
    body = Recorder(ToolRefused("status Closed does not exist"))

    report = run(nox, tool_with(body), {"host": "db1"})

    assert report.outcome == CallOutcome.REFUSED and len(body.calls) == 1
    assert "status Closed does not exist" in report.note
    assert ToolCallRecord.objects.get(pk=report.record_id).status == ToolCallRecord.Status.REFUSED


def test_a_bug_in_a_tool_fails_the_call_not_the_answer(nox):
    body = Recorder(KeyError("oops"))

    report = run(nox, tool_with(body), {"host": "db1"})

    assert report.outcome == CallOutcome.FAILED
    assert ToolCallRecord.objects.get(pk=report.record_id).status == ToolCallRecord.Status.FAILED


def test_a_retried_answer_does_not_do_a_write_twice(nox, tenant_a):
    from tests.apps.tools.helpers import question_make

    question = question_make(nox)
    body = Recorder("first", "second")
    tool = tool_with(body)

    first = run(nox, tool, {"host": "db1"}, question_id=question.pk)
    again = run(nox, tool, {"host": "db1"}, question_id=question.pk)

    assert len(body.calls) == 1
    assert again.outcome == CallOutcome.DONE and again.record_id == first.record_id
    assert json.loads(again.model_text) == json.loads(first.model_text)
    assert ToolCallRecord.objects.filter(question=question).count() == 1
    second = run(nox, tool, {"host": "db2"}, question_id=question.pk, ordinal=2)
    assert second.record_id != first.record_id and len(body.calls) == 2


def test_the_same_call_key_names_a_call_across_its_retries(nox):
    from tests.apps.tools.helpers import question_make

    question = question_make(nox)
    keys = []

    def flaky(context, args):
        keys.append(context.call_key)
        if len(keys) == 1:
            raise ToolUnavailable("lost answer")
        return ToolOutcome(result={}, summary="ok")

    run(nox, tool_with(flaky), {"host": "db1"}, question_id=question.pk)

    assert (
        len(keys) == 2
        and keys[0] == keys[1]
        and keys[0].endswith(f"-call-{ToolCallRecord.objects.get(question=question).pk}")
    )
