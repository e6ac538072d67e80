"""Votes on tool calls: opening one instead of running a call, ballots, closing, executing a
passed vote once, expiring overdue ones. Every chat post of a vote happens here.

Concurrency: every change of a vote's state happens with its row locked
(``select_for_update``), and the execution's unique row is created before the tool runs, in
the same locked transaction that checks the vote passed: two approvals arriving together, or
two workers executing the same vote, still run the tool once.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.core.tenant_tasks import enqueue_for_tenant
from apps.integrations.bases.chat import (
    ChatPostError,
    ChatThread,
    ChatUnavailable,
    OutgoingMessage,
    chat_for_team,
)
from apps.integrations.bases.llm import (
    ChatMessage,
    LLMProvider,
    LLMResponseError,
    LLMUnavailableError,
    ToolCall,
    llm_provider_get,
)
from apps.tools.catalog import TOOLS
from apps.tools.executor import (
    CallOutcome,
    CallReport,
    arguments_masked,
    arguments_problem,
    model_text_capped,
    tool_call_run,
)
from apps.tools.models import Risk, ToolCallRecord
from apps.tools.registry import Tool, ToolContext
from apps.tools.selectors import tools_offered
from apps.votes import rules
from apps.votes.activity import vote_ballot_publish, vote_closed_publish, vote_opened_publish
from apps.votes.messages import vote_message
from apps.votes.models import ApprovalPolicy, Ballot, Vote, VoteExecution
from apps.votes.selectors import (
    Policy,
    ballot_views,
    policy_for,
    vote_spec,
    vote_tally,
    votes_overdue,
)

logger = logging.getLogger(__name__)

# Tasks are enqueued by name: services never import tasks.
VOTE_EXECUTE_TASK = "apps.votes.tasks.vote_execute_task"
VOTE_MESSAGE_REFRESH_TASK = "apps.votes.tasks.vote_message_refresh_task"
VOTE_REPLY_TASK = "apps.votes.tasks.vote_reply_task"
VOTE_ADVICE_TASK = "apps.votes.tasks.vote_advice_task"


class VoteRefused(Exception):
    """A ballot that is not taken (unknown vote, not a voter, closed): the reason is said
    to the person who clicked, nothing changes."""


# --- opening a vote instead of running a call ------------------------------------------------


def vote_gate(context: ToolContext, tool: Tool, arguments: dict, ordinal: int) -> CallReport | None:
    """The answer pipeline's gate: None lets a call run; a call whose policy needs approval
    is held, a vote opened in its thread (once per call, however often the answer is
    retried), and the model told it awaits approval."""
    policy = policy_for(tool)
    if not policy.needs_vote:
        return None
    if context.chat is None or context.thread is None:
        reason = _("this action needs an approval, which needs a chat thread to vote in")
        return CallReport(
            name=tool.name,
            outcome=CallOutcome.REFUSED,
            model_text=model_text_capped({"error": reason}),
            note=_("%(tool)s was not run: %(reason)s") % {"tool": tool.name, "reason": reason},
        )
    vote = vote_open(
        context=context, tool=tool, arguments=arguments, ordinal=ordinal, policy=policy
    )
    note = _("%(tool)s awaits approval (vote #%(number)s).") % {
        "tool": tool.name,
        "number": vote.pk,
    }
    return CallReport(
        name=tool.name,
        outcome=CallOutcome.AWAITING,
        model_text=model_text_capped(
            {
                "status": f"awaiting approval (vote #{vote.pk})",
                "what_happens_next": (
                    "Not run yet: the people named vote in the thread; it runs only if they "
                    "approve. Do not call it again; tell the person it awaits approval."
                ),
            }
        ),
        note=note,
    )


def vote_open(
    *, context: ToolContext, tool: Tool, arguments: dict, ordinal: int, policy: Policy
) -> Vote:
    """A vote on this call, posted in its thread. Idempotent per (question, tool, rank)."""
    if context.question_id is not None:
        existing = Vote.objects.filter(
            question_id=context.question_id, tool=tool.name, ordinal=ordinal
        ).first()
        if existing is not None:
            return existing
    people = dict.fromkeys([*context.participants, context.requested_by])
    participants = tuple(person for person in people if person)
    spec = policy.spec(participants, _group_members(context.chat, policy.user_group))
    thread = context.thread
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                agent=context.agent,
                conversation_id=context.conversation_id,
                question_id=context.question_id,
                ordinal=ordinal,
                tool=tool.name,
                risk=tool.risk,
                arguments=arguments_masked(arguments),
                arguments_raw=json.dumps(arguments, ensure_ascii=False),
                requested_by=context.requested_by,
                rule={
                    "rule": spec.rule,
                    "voters": list(spec.voters),
                    "weights": spec.weights,
                    "quorum": spec.quorum,
                    "counts_advisory": spec.counts_advisory,
                    "source": policy.source,
                },
                deadline=timezone.now() + policy.expires_in,
                team_id=thread.team_id,
                channel_id=thread.channel,
                thread_ts=thread.thread_ts or "",
                question_ts=context.question_ts,
                participants=list(participants),
            )
    except IntegrityError:
        return Vote.objects.get(question_id=context.question_id, tool=tool.name, ordinal=ordinal)
    try:
        vote.message_ts = context.chat.post(
            thread, vote_message(vote, chat=context.chat, agent_name=context.agent.name)
        )
        vote.save(update_fields=["message_ts"])
    except ChatPostError as exc:
        # Nobody can vote on it then: it expires by itself, and never runs.
        logger.warning("Vote %s could not be posted: %s", vote.pk, exc.code)
    logger.info("Vote %s opened on %s (%s)", vote.pk, tool.name, spec.rule)
    vote_opened_publish(vote)
    if policy.asks_advisors:
        enqueue_for_tenant(VOTE_ADVICE_TASK, schema_name=_schema_name(), args=(vote.pk,))
    return vote


def _group_members(chat, group_id: str) -> tuple[str, ...]:
    """The user group's members as the vote opens (the group may change later; the vote
    keeps who could vote when it was put). Unreadable: only the voters named vote."""
    if not group_id or chat is None:
        return ()
    try:
        return chat.user_group_members(group_id)
    except ChatPostError as exc:
        logger.warning("User group %s not read (%s): only named voters vote", group_id, exc.code)
        return ()


# --- ballots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BallotTaken:
    vote_id: int
    status: str  # the vote's status after this ballot


def vote_click(
    *,
    team_id: str,
    vote_id: int | None,
    voter: str,
    choice: str,
    channel_id: str,
    message_ts: str,
    thread_ts: str,
) -> BallotTaken | None:
    """A person clicked Approve or Reject in the chat. Taken, or refused with the reason
    told to them alone (an ephemeral message, posted by a worker); None when refused."""
    try:
        return ballot_cast(
            vote_id=vote_id,
            voter=voter,
            choice=choice,
            channel_id=channel_id,
            message_ts=message_ts,
        )
    except VoteRefused as exc:
        logger.info("Ballot refused (vote %s, voter %s): %s", vote_id, voter, exc)
        if team_id and voter and channel_id:
            enqueue_for_tenant(
                VOTE_REPLY_TASK,
                schema_name=_schema_name(),
                kwargs={
                    "team_id": team_id,
                    "channel_id": channel_id,
                    "thread_ts": thread_ts,
                    "user_id": voter,
                    "text": str(exc),
                },
            )
        return None


@transaction.atomic
def ballot_cast(
    *, vote_id: int | None, voter: str, choice: str, channel_id: str, message_ts: str
) -> BallotTaken:
    """Record a person's ballot (their latest choice counts until the vote closes) and
    close the vote when the rule decides. Only for the vote shown in the clicked message
    (its channel and ts), so a click cannot vote on another vote by changing the id it
    carries. Raises ``VoteRefused``; nothing changes then."""
    if choice not in Ballot.Choice.values:
        raise VoteRefused(_("This is not a choice of this vote."))
    vote = (
        Vote.objects.select_for_update()
        .filter(pk=vote_id, channel_id=channel_id, message_ts=message_ts)
        .first()
        if vote_id is not None and message_ts
        else None
    )
    if vote is None:
        raise VoteRefused(_("This vote does not exist here; nothing was changed."))
    if voter not in vote_spec(vote).voters:
        raise VoteRefused(_("You can't vote on this: only the people named in the vote can."))
    return _ballot_record(vote, voter=voter, choice=choice, advisory=False, reason="")


@transaction.atomic
def advisory_ballot_cast(*, vote_id: int, agent_slug: str, choice: str, reason: str) -> BallotTaken:
    """An agent's advisory opinion (ATLAS, CIRRUS) with its one-line reason: shown apart
    from people's ballots, counted only where the vote's policy says so."""
    if agent_slug not in rules.ADVISORS:
        raise VoteRefused(f"{agent_slug!r} does not give advisory votes")
    if choice not in Ballot.Choice.values:
        raise VoteRefused(f"unknown choice {choice!r}")
    vote = Vote.objects.select_for_update().filter(pk=vote_id).first()
    if vote is None:
        raise VoteRefused(f"no vote {vote_id}")
    line = " ".join(str(reason).split())[:300]
    return _ballot_record(vote, voter=agent_slug, choice=choice, advisory=True, reason=line)


def _ballot_record(vote: Vote, *, voter: str, choice: str, advisory: bool, reason: str):
    """With the vote's row locked: store the ballot, then decide."""
    if vote.is_open and vote.deadline <= timezone.now():
        _close(vote, Vote.Status.EXPIRED)
    if not vote.is_open:
        raise VoteRefused(
            _("This vote is closed (%(status)s); nothing was changed.")
            % {"status": vote.get_status_display()}
        )
    now = timezone.now().isoformat()
    ballot = Ballot.objects.filter(vote=vote, voter=voter).first()
    if ballot is None:
        ballot = Ballot(vote=vote, voter=voter, advisory=advisory)
    ballot.history = [*ballot.history, {"choice": choice, "at": now}]
    ballot.choice = choice
    ballot.reason = reason
    ballot.save()
    outcome = vote_tally(vote).outcome
    if outcome == rules.PASSED:
        _close(vote, Vote.Status.PASSED)
        enqueue_for_tenant(VOTE_EXECUTE_TASK, schema_name=_schema_name(), args=(vote.pk,))
    elif outcome == rules.REJECTED:
        _close(vote, Vote.Status.REJECTED)
    else:
        vote_ballot_publish(vote)
        _message_refresh_later(vote)
    return BallotTaken(vote_id=vote.pk, status=vote.status)


def _close(vote: Vote, status: str, *, refresh_later: bool = True) -> None:
    vote.status = status
    vote.closed_at = timezone.now()
    vote.save(update_fields=["status", "closed_at"])
    logger.info("Vote %s closed: %s", vote.pk, status)
    vote_closed_publish(vote)
    if refresh_later:
        _message_refresh_later(vote)


def _message_refresh_later(vote: Vote) -> None:
    if vote.message_ts:
        enqueue_for_tenant(VOTE_MESSAGE_REFRESH_TASK, schema_name=_schema_name(), args=(vote.pk,))


def _schema_name() -> str:
    from django.db import connection

    return connection.schema_name


# --- the chat side --------------------------------------------------------------------------


def vote_message_refresh(vote_id: int) -> bool:
    """Show the vote's current state (tally, status, buttons) in its message."""
    vote = Vote.objects.select_related("agent").filter(pk=vote_id).first()
    if vote is None or not vote.message_ts:
        return False
    try:
        chat = chat_for_team(vote.team_id)
        chat.update(
            channel=vote.channel_id,
            ts=vote.message_ts,
            message=vote_message(vote, chat=chat, agent_name=vote.agent.name),
        )
    except (ChatPostError, ChatUnavailable) as exc:
        logger.warning("Vote %s message not updated: %s", vote.pk, exc)
        return False
    return True


def vote_reply(*, team_id: str, channel_id: str, thread_ts: str, user_id: str, text: str) -> None:
    """Tell one person (only them) why their click was not taken."""
    try:
        chat_for_team(team_id).post_ephemeral(
            ChatThread(channel=channel_id, thread_ts=thread_ts or None, user_id=user_id),
            OutgoingMessage(text=text),
        )
    except (ChatPostError, ChatUnavailable) as exc:
        logger.warning("Vote reply not posted: %s", exc)


def _thread_post(vote: Vote, text: str) -> None:
    try:
        chat_for_team(vote.team_id).post(_thread_of(vote), OutgoingMessage(text=text))
    except (ChatPostError, ChatUnavailable) as exc:
        logger.warning("Vote %s: the thread was not told: %s", vote.pk, exc)


def _thread_of(vote: Vote) -> ChatThread:
    return ChatThread(
        channel=vote.channel_id,
        thread_ts=vote.thread_ts or None,
        team_id=vote.team_id,
        user_id=vote.requested_by,
    )


# --- executing a passed vote, once --------------------------------------------------------


EXECUTION_STATUS = {
    CallOutcome.DONE: VoteExecution.Status.DONE,
    CallOutcome.WAITING: VoteExecution.Status.DONE,  # kept by the tool (an incident)
    CallOutcome.REPEATED: VoteExecution.Status.DONE,
    CallOutcome.REFUSED: VoteExecution.Status.REFUSED,
    CallOutcome.INVALID: VoteExecution.Status.REFUSED,
    CallOutcome.FAILED: VoteExecution.Status.FAILED,
}


def vote_execute(vote_id: int) -> VoteExecution | None:
    """Run a passed vote's call, once. Just before running, with the vote's row locked: the
    current policy is read again (made stricter meanwhile, the vote reopens for more
    ballots; rejected under it, the vote is rejected) and the arguments are checked again
    against the tool's schema and what the agent may use now. The execution row is written
    before the tool runs: a second attempt finds it and does nothing (at most once, even if
    a worker dies mid-run). Returns the execution, or None when nothing ran."""
    claimed = _execution_claim(vote_id)
    if claimed is None:
        return None
    vote, execution, tool = claimed
    if tool is None:  # the check refused it
        vote_closed_publish(vote, execution)
        vote_message_refresh(vote.pk)
        _thread_post(
            vote,
            _("Vote #%(number)s passed, but %(tool)s was not run: %(reason)s")
            % {"number": vote.pk, "tool": vote.tool, "reason": execution.check_summary},
        )
        return execution
    arguments = json.loads(vote.arguments_raw)
    report = tool_call_run(
        _context_of(vote),
        ToolCall(name=tool.name, arguments=arguments),
        offered={tool.name: tool},
        ordinal=vote.ordinal,
    )
    record = ToolCallRecord.objects.filter(pk=report.record_id).first()
    execution.status = EXECUTION_STATUS.get(report.outcome, VoteExecution.Status.FAILED)
    execution.tool_call = record
    execution.summary = (report.note or "")[:300]
    execution.result = record.result if record is not None else {}
    execution.finished_at = timezone.now()
    execution.save()
    Vote.objects.filter(pk=vote.pk).update(status=Vote.Status.EXECUTED)
    vote.status = Vote.Status.EXECUTED
    vote_closed_publish(vote, execution)
    vote_message_refresh(vote.pk)  # already in a worker: shown now
    text = _("Vote #%(number)s passed. %(result)s") % {"number": vote.pk, "result": report.note}
    if report.link:
        text += " — [{label}]({link})".format(label=_("open"), link=report.link)
    _thread_post(vote, text)
    return execution


@transaction.atomic
def _execution_claim(vote_id: int) -> tuple[Vote, VoteExecution, Tool | None] | None:
    vote = Vote.objects.select_for_update().select_related("agent").filter(pk=vote_id).first()
    if vote is None or vote.status != Vote.Status.PASSED:
        return None
    if VoteExecution.objects.filter(vote=vote).exists():
        return None
    tool = TOOLS.get(vote.tool)
    problem = _recheck(vote, tool)
    if problem == rules.PENDING:
        return None
    if problem == rules.REJECTED:
        return None
    execution = VoteExecution.objects.create(
        vote=vote,
        status=VoteExecution.Status.RUNNING if problem is None else VoteExecution.Status.REFUSED,
        check_summary=problem or _check_passed_summary(vote),
        finished_at=None if problem is None else timezone.now(),
    )
    return vote, execution, tool if problem is None else None


def _recheck(vote: Vote, tool: Tool | None) -> str | None:
    """None when the call may run now; rules.PENDING / rules.REJECTED when the current
    policy no longer lets it pass (the vote is reopened / rejected here); else the reason it
    may not run (in words)."""
    if tool is None:
        return _("the tool %(tool)s no longer exists") % {"tool": vote.tool}
    policy = policy_for(tool)
    if policy.needs_vote:
        # A user group's members are not read again: those the vote was opened for stand.
        members = tuple(vote_spec(vote).voters) if policy.user_group else ()
        current = policy.spec(tuple(vote.participants), members)
        outcome = rules.tally(current, ballot_views(vote)).outcome
        if outcome != rules.PASSED:
            _rule_renewed(vote, current, policy.source, outcome)
            return outcome
    if tool.name not in {offered.name for offered in tools_offered(vote.agent, has_chat=True)}:
        return _("%(agent)s may no longer use %(tool)s") % {
            "agent": vote.agent.name,
            "tool": tool.name,
        }
    try:
        arguments = json.loads(vote.arguments_raw)
    except (TypeError, ValueError):
        return _("its arguments could not be read")
    return arguments_problem(tool, arguments)


def _rule_renewed(vote: Vote, spec: rules.RuleSpec, source: str, outcome: str) -> None:
    """The policy changed since the vote passed and no longer lets it pass."""
    vote.rule = {
        "rule": spec.rule,
        "voters": list(spec.voters),
        "weights": spec.weights,
        "quorum": spec.quorum,
        "counts_advisory": spec.counts_advisory,
        "source": source,
    }
    vote.status = Vote.Status.OPEN if outcome == rules.PENDING else Vote.Status.REJECTED
    vote.closed_at = None if outcome == rules.PENDING else timezone.now()
    vote.save(update_fields=["rule", "status", "closed_at"])
    logger.info("Vote %s: the policy changed before it ran; now %s", vote.pk, vote.status)
    if vote.is_open:
        vote_opened_publish(vote)
    else:
        vote_closed_publish(vote)
    _message_refresh_later(vote)


def _check_passed_summary(vote: Vote) -> str:
    tally = vote_tally(vote)
    return (
        f"policy re-read ({vote.rule.get('rule')}, from {vote.rule.get('source', '?')}): "
        f"passed with {tally.approvals} approval(s), {tally.rejections} rejection(s) of "
        f"{tally.electorate}; arguments valid against the tool's schema; tool still offered"
    )


def _context_of(vote: Vote) -> ToolContext:
    chat = None
    try:
        chat = chat_for_team(vote.team_id)
    except ChatUnavailable:
        logger.warning("Vote %s runs without its chat (workspace gone)", vote.pk)
    return ToolContext(
        agent=vote.agent,
        schema_name=_schema_name(),
        requested_by=vote.requested_by,
        chat=chat,
        thread=_thread_of(vote),
        question_ts=vote.question_ts,
        participants=tuple(vote.participants),
        question_id=vote.question_id,
        conversation_id=vote.conversation_id,
    )


# --- expiry ------------------------------------------------------------------------------


def votes_expire() -> int:
    """Close every open vote past its deadline as expired (a rejection: it never runs) and
    update its message. Safe to run concurrently: each vote is re-checked under its lock."""
    expired = 0
    for vote_id in votes_overdue(timezone.now()):
        with transaction.atomic():
            vote = Vote.objects.select_for_update().filter(pk=vote_id).first()
            if vote is None or not vote.is_open or vote.deadline > timezone.now():
                continue
            _close(vote, Vote.Status.EXPIRED, refresh_later=False)
            expired += 1
        vote_message_refresh(vote_id)  # already in a worker: shown now
    return expired


# --- policies ---------------------------------------------------------------------------


class PolicyError(Exception):
    """A policy that cannot be used; the message says why in one line."""


@transaction.atomic
def approval_policy_set(
    *,
    target: str,
    rule: str,
    voters: list[str],
    weights: dict[str, int],
    quorum: int,
    expires_in,
    counts_advisory: bool,
    user_group: str = "",
    asks_advisors: bool = False,
) -> tuple[ApprovalPolicy, bool]:
    """Create or replace the policy of a tool (by name) or of a risk level. Idempotent."""
    problem = rules.policy_problem(
        rule=rule, voters=voters, weights=weights, quorum=quorum, user_group=user_group
    )
    if problem:
        raise PolicyError(problem)
    if expires_in.total_seconds() <= 0:
        raise PolicyError("the deadline must be in the future")
    key = {"risk": target, "tool": ""} if target in Risk.values else {"tool": target, "risk": ""}
    if key["tool"] and key["tool"] not in TOOLS:
        raise PolicyError(f"unknown tool {target!r}")
    return ApprovalPolicy.objects.update_or_create(
        **key,
        defaults={
            "rule": rule,
            "voters": voters,
            "user_group": user_group,
            "weights": weights,
            "quorum": quorum,
            "expires_in": expires_in,
            "counts_advisory": counts_advisory,
            "asks_advisors": asks_advisors,
        },
    )


# --- advice of the other agents ---------------------------------------------------------


ADVICE_REQUEST = (
    "{agent} proposes an action that people must approve before it runs. As {advisor}, give "
    "your advice on it in one line that starts with APPROVE or REJECT, then a colon and your "
    "reason (at most 25 words). Nothing else.\n\nAction: {tool}\nArguments: {arguments}"
)
ADVICE_RE = re.compile(r"^\W*(approve|reject)\w*\b[\s:.,;*_\-–—]*(.*)$", re.IGNORECASE)


def advice_parse(text: str) -> tuple[str, str] | None:
    """(choice, one-line reason) from a model's advice; None when it gave neither verdict."""
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    match = ADVICE_RE.match(line[:1000])
    if match is None:
        return None
    return match[1].lower(), match[2].strip()[:300]


def vote_advice_gather(vote_id: int, *, llm: LLMProvider | None = None) -> int:
    """Ask ATLAS and CIRRUS (those enabled) for an advisory ballot on an open vote; their
    verdict and reason are stored as advisory ballots and shown. A model that is down or
    answers something else gives no ballot. Returns how many advised."""
    vote = Vote.objects.select_related("agent").filter(pk=vote_id).first()
    if vote is None or not vote.is_open:
        return 0
    llm = llm or llm_provider_get()
    advised = 0
    for advisor in Agent.objects.filter(slug__in=rules.ADVISORS, enabled=True).order_by("slug"):
        request = ADVICE_REQUEST.format(
            agent=vote.agent.name,
            advisor=advisor.name,
            tool=vote.tool,
            arguments=json.dumps(vote.arguments, ensure_ascii=False)[:2000],
        )
        try:
            result = llm.chat(
                [
                    ChatMessage(role="system", content=advisor.persona),
                    ChatMessage(role="user", content=request),
                ],
                model=advisor.model,
                temperature=advisor.temperature,
                context_size=advisor.context_size,
            )
        except (LLMUnavailableError, LLMResponseError) as exc:
            logger.warning("Vote %s: %s gave no advice: %s", vote.pk, advisor.slug, exc)
            continue
        advice = advice_parse(result.text)
        if advice is None:
            logger.info("Vote %s: %s's advice had no verdict", vote.pk, advisor.slug)
            continue
        try:
            advisory_ballot_cast(
                vote_id=vote.pk, agent_slug=advisor.slug, choice=advice[0], reason=advice[1]
            )
        except VoteRefused:
            break  # closed meanwhile
        advised += 1
    return advised
