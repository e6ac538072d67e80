"""What the company's activity feed is told about tool calls: which tool, for which agent and
question, and how it ended. Never the arguments or the result (they can quote a direct
message)."""

from __future__ import annotations

from apps.core.live import activity_publish
from apps.tools.models import ToolCallRecord


def tool_call_finished_publish(record: ToolCallRecord) -> None:
    activity_publish(
        "tool_call",
        tool_call_id=record.pk,
        tool=record.tool,
        status=record.status,
        agent=record.agent.name,
        question_id=record.question_id,
        duration_ms=record.duration_ms,
    )
