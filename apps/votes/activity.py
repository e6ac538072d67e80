"""What the company's activity feed is told about votes, as they happen: opened, a ballot cast
or changed (the tally), closed (passed, rejected, expired), executed or refused at the check.

One function per moment, each called once by the service step that makes it happen. Lines
name the vote, its tool, its agent, its status and its tally; never the arguments (they can
quote a direct message). A result summary only for a vote asked outside a private
conversation (``apps.core.privacy``), whose words the company's staff may read.
"""

from __future__ import annotations

from apps.core.live import activity_preview, activity_publish
from apps.core.privacy import DIRECT_MESSAGE, WEB_CHAT_TEAM_ID
from apps.votes.models import Vote, VoteExecution
from apps.votes.selectors import vote_count


def vote_is_private(vote: Vote) -> bool:
    """Whether the vote was asked in a conversation private to its person (a DM, the browser
    chat): by its conversation, else by where it was asked (the conversation may be gone)."""
    conversation = vote.conversation
    if conversation is not None:
        return (
            conversation.channel_type == DIRECT_MESSAGE or conversation.team_id == WEB_CHAT_TEAM_ID
        )
    return vote.team_id == WEB_CHAT_TEAM_ID


def vote_fields(vote: Vote) -> dict:
    count = vote_count(vote)
    return {
        "vote_id": vote.pk,
        "tool": vote.tool,
        "agent": vote.agent.name,
        "status": vote.status,
        "direct": vote_is_private(vote),
        "user": vote.requested_by,
        "approvals": count.approvals,
        "rejections": count.rejections,
        "needed": count.needed,
    }


def vote_opened_publish(vote: Vote) -> None:
    activity_publish("vote", **vote_fields(vote), moment="opened")


def vote_ballot_publish(vote: Vote) -> None:
    """A ballot was cast or changed and the vote stays open: its new tally."""
    activity_publish("vote", **vote_fields(vote), moment="ballot")


def vote_closed_publish(vote: Vote, execution: VoteExecution | None = None) -> None:
    """The vote closed (passed, rejected, expired) or its execution finished: with the
    execution's status and, outside private conversations, its one-line summary."""
    fields = vote_fields(vote)
    if execution is not None:
        fields["execution"] = execution.status
        summary = execution.summary or execution.check_summary
        fields["preview"] = activity_preview(summary, direct=fields["direct"])
    activity_publish("vote", **fields, moment="closed")
