"""Reads: the policy a tool call falls under, a vote's ballots as the rules read them, and the
votes page of a company's site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from apps.core.privacy import text_visible
from apps.tools.models import Risk
from apps.tools.registry import Tool
from apps.votes import rules
from apps.votes.models import ApprovalPolicy, Ballot, Vote

# The defaults when the tenant has no policy for a tool nor for its risk level.
# Who votes then: the people of the thread the call came from (the requester included), the
# people who can see what is asked and why. A write is confirmed by one of them; a dangerous
# call needs two thirds of them. Name voters with `approval_policy` to require others.
DEFAULT_RULES = {
    Risk.READ: rules.NONE,
    Risk.WRITE: rules.SINGLE,
    Risk.DANGEROUS: rules.QUALIFIED_MAJORITY,
}
DEFAULT_EXPIRES_IN = timedelta(minutes=30)


@dataclass(frozen=True)
class Policy:
    rule: str
    voters: tuple[str, ...]  # empty, and no user group: the thread's participants
    weights: dict[str, int]
    quorum: int
    expires_in: timedelta
    counts_advisory: bool
    source: str  # "tool", "risk" or "default": where it came from, for the audit
    user_group: str = ""
    asks_advisors: bool = False

    @property
    def needs_vote(self) -> bool:
        return self.rule != rules.NONE

    def spec(
        self, participants: tuple[str, ...] = (), group_members: tuple[str, ...] = ()
    ) -> rules.RuleSpec:
        """The rule over its voters: those named and the user group's members; when the
        policy names neither, the people of the thread."""
        named = tuple(dict.fromkeys([*self.voters, *group_members]))
        if not self.voters and not self.user_group:
            named = tuple(dict.fromkeys(participants))
        return rules.RuleSpec(
            rule=self.rule,
            voters=named,
            weights=dict(self.weights),
            quorum=self.quorum,
            counts_advisory=self.counts_advisory,
        )


def policy_for(tool: Tool) -> Policy:
    """The tenant's policy for ``tool``: its own row, else its risk level's, else the
    default of its risk level."""
    rows = {
        ("tool" if row.tool else "risk"): row
        for row in ApprovalPolicy.objects.filter(Q(tool=tool.name) | Q(risk=tool.risk))
    }
    row = rows.get("tool") or rows.get("risk")
    if row is None:
        return Policy(
            rule=DEFAULT_RULES.get(tool.risk, rules.QUALIFIED_MAJORITY),
            voters=(),
            weights={},
            quorum=0,
            expires_in=DEFAULT_EXPIRES_IN,
            counts_advisory=False,
            source="default",
        )
    return Policy(
        rule=row.rule,
        voters=tuple(row.voters or ()),
        weights=dict(row.weights or {}),
        quorum=row.quorum,
        expires_in=row.expires_in,
        counts_advisory=row.counts_advisory,
        source="tool" if row.tool else "risk",
        user_group=row.user_group,
        asks_advisors=row.asks_advisors,
    )


def vote_spec(vote: Vote) -> rules.RuleSpec:
    """The rule a vote was opened under (its snapshot)."""
    snapshot = vote.rule or {}
    return rules.RuleSpec(
        rule=snapshot.get("rule", rules.QUALIFIED_MAJORITY),
        voters=tuple(snapshot.get("voters") or ()),
        weights=dict(snapshot.get("weights") or {}),
        quorum=int(snapshot.get("quorum") or 0),
        counts_advisory=bool(snapshot.get("counts_advisory")),
    )


def ballot_views(vote: Vote) -> list[rules.BallotView]:
    return [
        rules.BallotView(
            voter=ballot.voter,
            approve=ballot.choice == Ballot.Choice.APPROVE,
            advisory=ballot.advisory,
        )
        for ballot in vote.ballots.order_by("created_at", "pk")
    ]


def vote_tally(vote: Vote) -> rules.Tally:
    return rules.tally(vote_spec(vote), ballot_views(vote))


def votes_overdue(now) -> list[int]:
    return list(
        Vote.objects.filter(status=Vote.Status.OPEN, deadline__lt=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- the votes page ---------------------------------------------------------------------


def vote_list(*, viewer: str, status: str = "") -> QuerySet[Vote]:
    """The tenant's votes, open ones first (soonest deadline first), then the others newest
    first, with ``text_visible``: False for a vote asked in a conversation private to someone
    other than ``viewer`` (``apps.core.privacy``): its arguments quote that conversation."""
    votes = (
        Vote.objects.select_related("agent", "execution")
        .prefetch_related("ballots")
        .annotate(
            text_visible=text_visible(viewer=viewer, prefix="conversation__"),
            open_first=Case(
                When(status=Vote.Status.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
    )
    if status:
        votes = votes.filter(status=status)
    return votes.order_by("open_first", "-created_at", "-pk")


def vote_get(*, vote_id: int, viewer: str) -> Vote | None:
    """One vote of this tenant with ``text_visible`` (see ``vote_list``); None if none."""
    return (
        Vote.objects.select_related("agent", "execution", "execution__tool_call")
        .annotate(text_visible=text_visible(viewer=viewer, prefix="conversation__"))
        .filter(pk=vote_id)
        .first()
    )


@dataclass(frozen=True)
class VoteCount:
    """A vote's tally as its page shows it: approvals and rejections against what passes it
    (ballots, or weight under the weighted rule) and the quorum."""

    approvals: int
    rejections: int
    needed: int
    electorate: int
    quorum: int
    weighted: bool


def vote_count(vote: Vote) -> VoteCount:
    """The tally of ``vote`` (reads its ballots: prefetch them for a list)."""
    spec = vote_spec(vote)
    views = [
        rules.BallotView(
            voter=ballot.voter,
            approve=ballot.choice == Ballot.Choice.APPROVE,
            advisory=ballot.advisory,
        )
        for ballot in sorted(vote.ballots.all(), key=lambda ballot: (ballot.created_at, ballot.pk))
    ]
    tally = rules.tally(spec, views)
    weighted = spec.rule == rules.WEIGHTED
    return VoteCount(
        approvals=tally.approve_weight if weighted else tally.approvals,
        rejections=tally.reject_weight if weighted else tally.rejections,
        needed=rules.approvals_needed(spec),
        electorate=tally.total_weight if weighted else tally.electorate,
        quorum=spec.quorum,
        weighted=weighted,
    )
