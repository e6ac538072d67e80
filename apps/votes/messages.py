"""A vote as people see it in the thread, in the chat contract's neutral terms: what is
proposed in plain words, its arguments, who may vote, the rule, the deadline, the tally, the
advisory opinions apart, and Approve / Reject while it is open."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from apps.integrations.bases.chat import Chat, ChatButton, OutgoingMessage, Tone
from apps.votes import rules
from apps.votes.models import Ballot, Rule, Vote, VoteExecution
from apps.votes.selectors import vote_spec, vote_tally

# The buttons' action ids; the chat platform routes clicks on them back to the votes.
VOTE_APPROVE_ACTION = "vote_approve"
VOTE_REJECT_ACTION = "vote_reject"
ARGUMENT_SHOWN_CHARS = 300


def _argument_lines(arguments: dict) -> list[str]:
    lines = []
    for key, value in list(arguments.items())[:20]:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(shown) > ARGUMENT_SHOWN_CHARS:
            shown = shown[:ARGUMENT_SHOWN_CHARS] + "…"
        lines.append(f"• {key}: `{shown}`")
    return lines


def _status_line(vote: Vote) -> str:
    if vote.status == Vote.Status.OPEN:
        return _("Open until %(deadline)s UTC.") % {
            "deadline": vote.deadline.strftime("%Y-%m-%d %H:%M")
        }
    if vote.status == Vote.Status.PASSED:
        execution = VoteExecution.objects.filter(vote=vote).first()
        if execution is not None and execution.status == VoteExecution.Status.REFUSED:
            return _("Approved, but not run: %(reason)s") % {"reason": execution.check_summary}
        return _("Approved: running it now.")
    if vote.status == Vote.Status.EXECUTED:
        return _("Approved and done.")
    if vote.status == Vote.Status.EXPIRED:
        return _("Rejected: the deadline passed. It will not run.")
    return _("Rejected. It will not run.")


def _tally_line(vote: Vote) -> str:
    spec = vote_spec(vote)
    tally = vote_tally(vote)
    if spec.rule == rules.WEIGHTED:
        return _("Approve: %(approve)s · Reject: %(reject)s (weights, of %(total)s)") % {
            "approve": tally.approve_weight,
            "reject": tally.reject_weight,
            "total": tally.total_weight,
        }
    return _("Approve: %(approve)s · Reject: %(reject)s (of %(total)s)") % {
        "approve": tally.approvals,
        "reject": tally.rejections,
        "total": tally.electorate,
    }


def _advisory_lines(vote: Vote) -> list[str]:
    counted = vote_spec(vote).counts_advisory
    lines = []
    for ballot in vote.ballots.filter(advisory=True).order_by("created_at"):
        values = {"agent": ballot.voter.upper(), "reason": ballot.reason}
        line = (
            _("%(agent)s advises to approve: %(reason)s")
            if ballot.choice == Ballot.Choice.APPROVE
            else _("%(agent)s advises to reject: %(reason)s")
        ) % values
        lines.append(line + ("" if counted else " " + _("(advisory, not counted)")))
    return lines


def vote_message(vote: Vote, *, chat: Chat, agent_name: str) -> OutgoingMessage:
    spec = vote_spec(vote)
    voters = ", ".join(chat.user_reference(voter) for voter in spec.voters)
    heading = _("*Vote #%(number)s*: %(agent)s asks to run *%(tool)s*.") % {
        "number": vote.pk,
        "agent": agent_name,
        "tool": vote.tool,
    }
    body = "\n".join([heading, *_argument_lines(vote.arguments or {})])
    notes = [
        _("Who may vote: %(voters)s · Rule: %(rule)s")
        % {
            "voters": voters or "—",
            "rule": Rule(spec.rule).label if spec.rule in Rule.values else spec.rule,
        },
        _tally_line(vote),
        *_advisory_lines(vote),
        _status_line(vote),
    ]
    buttons: tuple[ChatButton, ...] = ()
    if vote.is_open:
        buttons = (
            ChatButton(VOTE_APPROVE_ACTION, _("Approve"), str(vote.pk), "primary"),
            ChatButton(VOTE_REJECT_ACTION, _("Reject"), str(vote.pk), "danger"),
        )
    closed_unrun = vote.status in (Vote.Status.REJECTED, Vote.Status.EXPIRED)
    tone = Tone.WARNING if closed_unrun else Tone.PLAIN
    return OutgoingMessage(text=body, notes=tuple(notes), buttons=buttons, tone=tone)
