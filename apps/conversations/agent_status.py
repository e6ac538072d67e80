"""What /<agent>-status, -help and -metrics report about an agent, gathered from its
conversations, the broker and a cheap check of the language model (cached briefly: a slash
command has 3 seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.selectors import (
    AgentWindowMetrics,
    agent_last_answer_at,
    agent_metrics,
    agent_waiting_questions,
    questions_in_line,
)
from apps.integrations.bases.llm import llm_provider_get

LLM_HEALTH_CACHE_S = 30
LLM_HEALTH_TIMEOUT_S = 1.5


@dataclass(frozen=True)
class AgentStatus:
    agent: Agent
    llm_reachable: bool
    llm_detail: str
    model_available: bool | None  # None: the provider did not list its models
    # This tenant's own line, never the broker's queue, which every tenant shares.
    questions_in_line: int
    waiting_questions: int
    last_answer_at: datetime | None


def llm_health(*, model: str) -> tuple[bool, str, bool | None]:
    cached = cache.get("llm-health")
    if cached is None:
        health = llm_provider_get().health(timeout_s=LLM_HEALTH_TIMEOUT_S)
        cached = {"reachable": health.reachable, "detail": health.detail, "models": health.models}
        cache.set("llm-health", cached, LLM_HEALTH_CACHE_S)
    models = cached["models"]
    available = None
    if cached["reachable"] and models:
        available = model in models or f"{model}:latest" in models
    return cached["reachable"], cached["detail"], available


def agent_status(*, agent: Agent) -> AgentStatus:
    reachable, detail, available = llm_health(model=agent.model)
    return AgentStatus(
        agent=agent,
        llm_reachable=reachable,
        llm_detail=detail,
        model_available=available,
        questions_in_line=questions_in_line(),
        waiting_questions=agent_waiting_questions(agent=agent),
        last_answer_at=agent_last_answer_at(agent=agent),
    )


def agent_metrics_windows(*, agent: Agent) -> dict[str, AgentWindowMetrics]:
    now = timezone.now()
    return {
        "24h": agent_metrics(agent=agent, since=now - timedelta(hours=24)),
        "7d": agent_metrics(agent=agent, since=now - timedelta(days=7)),
    }
