"""How ballots decide a vote: pure functions, no database, one per rule.

Everything is counted over the *electorate*: the voters the vote was opened for, plus the
advisory agents when the policy counts their ballots. A ballot from anyone else is ignored
(the service never stores one, but the tally does not trust that). ``quorum``: ballots that
must be cast before a vote may pass; a rule that is already lost is rejected at once.

- single: one approval passes; rejected when every voter rejected.
- majority: more than half of the electorate approves; rejected once that cannot happen.
- qualified_majority: at least two thirds approve; rejected once that cannot happen.
- consensus: every ballot approves and the quorum (default: the whole electorate) is met;
  any rejection rejects.
- weighted: approving weight above half the electorate's weight; rejected once that cannot
  happen (a voter not in ``weights`` weighs 1).
- none: passes at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

NONE = "none"
SINGLE = "single"
MAJORITY = "majority"
QUALIFIED_MAJORITY = "qualified_majority"
CONSENSUS = "consensus"
WEIGHTED = "weighted"
RULES = (NONE, SINGLE, MAJORITY, QUALIFIED_MAJORITY, CONSENSUS, WEIGHTED)

PASSED = "passed"
REJECTED = "rejected"
PENDING = "pending"

# The agents that may cast advisory ballots on NOX's proposals.
ADVISORS = ("atlas", "cirrus")
VOTER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,31}$")
USER_GROUP_ID_RE = re.compile(r"^S[A-Z0-9]{2,31}$")
MAX_VOTERS = 100
MAX_WEIGHT = 1000

# The share of the electorate (or of its weight) a rule needs, and whether reaching exactly
# that share is enough.
_THRESHOLDS = {
    MAJORITY: (Fraction(1, 2), False),
    QUALIFIED_MAJORITY: (Fraction(2, 3), True),
    WEIGHTED: (Fraction(1, 2), False),
}


@dataclass(frozen=True)
class RuleSpec:
    rule: str
    voters: tuple[str, ...]
    weights: dict[str, int] = field(default_factory=dict)
    quorum: int = 0
    counts_advisory: bool = False

    def electorate(self) -> tuple[str, ...]:
        advisors = ADVISORS if self.counts_advisory else ()
        return (*self.voters, *advisors)

    def weight(self, voter: str) -> int:
        return self.weights.get(voter, 1) if self.rule == WEIGHTED else 1


@dataclass(frozen=True)
class BallotView:
    voter: str
    approve: bool
    advisory: bool = False


@dataclass(frozen=True)
class Tally:
    outcome: str  # PASSED | REJECTED | PENDING
    approvals: int  # counted ballots only
    rejections: int
    approve_weight: int
    reject_weight: int
    total_weight: int
    electorate: int


def ballots_counted(spec: RuleSpec, ballots: list[BallotView]) -> dict[str, bool]:
    """The ballots that count, by voter (the latest one each): humans of the electorate,
    and advisory agents only where the policy says so."""
    electorate = set(spec.electorate())
    counted: dict[str, bool] = {}
    for ballot in ballots:
        if ballot.voter not in electorate:
            continue
        if ballot.advisory and not spec.counts_advisory:
            continue
        counted[ballot.voter] = ballot.approve
    return counted


def tally(spec: RuleSpec, ballots: list[BallotView]) -> Tally:
    counted = ballots_counted(spec, ballots)
    electorate = spec.electorate()
    approvers = [voter for voter, approve in counted.items() if approve]
    rejecters = [voter for voter, approve in counted.items() if not approve]
    approve_weight = sum(spec.weight(v) for v in approvers)
    reject_weight = sum(spec.weight(v) for v in rejecters)
    total_weight = sum(spec.weight(v) for v in electorate)
    outcome = _outcome(
        spec,
        cast=len(counted),
        approvals=len(approvers),
        rejections=len(rejecters),
        electorate=len(electorate),
        approve_weight=approve_weight,
        reject_weight=reject_weight,
        total_weight=total_weight,
    )
    return Tally(
        outcome=outcome,
        approvals=len(approvers),
        rejections=len(rejecters),
        approve_weight=approve_weight,
        reject_weight=reject_weight,
        total_weight=total_weight,
        electorate=len(electorate),
    )


def approvals_needed(spec: RuleSpec) -> int:
    """How much approval passes a vote under ``spec`` once every voter could vote: ballots
    (weight under the weighted rule), for the pages' "approvals of needed". The quorum, when
    set, is shown apart: it counts ballots of either choice."""
    electorate = len(spec.electorate())
    if spec.rule == NONE:
        return 0
    if spec.rule == SINGLE:
        return 1
    if spec.rule == CONSENSUS:
        return spec.quorum or electorate
    share, inclusive = _THRESHOLDS[spec.rule]
    whole = sum(spec.weight(v) for v in spec.electorate()) if spec.rule == WEIGHTED else electorate
    # The smallest part that reaches the share (at most the whole: an empty electorate
    # needs 0 and still never passes).
    return next(
        (part for part in range(whole + 1) if _reaches(share, inclusive, part, whole)), whole
    )


def _reaches(share: Fraction, inclusive: bool, part: int, whole: int) -> bool:
    if whole <= 0:
        return False
    ratio = Fraction(part, whole)
    return ratio >= share if inclusive else ratio > share


def _outcome(
    spec: RuleSpec,
    *,
    cast: int,
    approvals: int,
    rejections: int,
    electorate: int,
    approve_weight: int,
    reject_weight: int,
    total_weight: int,
) -> str:
    if spec.rule == NONE:
        return PASSED
    if electorate == 0:
        return REJECTED  # nobody may vote: it can never pass
    quorum_met = cast >= spec.quorum
    if spec.rule == SINGLE:
        if approvals >= 1 and quorum_met:
            return PASSED
        return REJECTED if rejections >= electorate else PENDING
    if spec.rule == CONSENSUS:
        if rejections:
            return REJECTED
        needed = spec.quorum or electorate
        return PASSED if approvals >= needed else PENDING
    share, inclusive = _THRESHOLDS[spec.rule]
    if spec.rule == WEIGHTED:
        part, still_possible, whole = (
            approve_weight,
            total_weight - reject_weight,
            total_weight,
        )
    else:
        part, still_possible, whole = approvals, electorate - rejections, electorate
    if _reaches(share, inclusive, part, whole) and quorum_met:
        return PASSED
    if not _reaches(share, inclusive, still_possible, whole):
        return REJECTED
    return PENDING


def policy_problem(
    *, rule: str, voters: list, weights: dict, quorum: int, user_group: str = ""
) -> str | None:
    """Why a policy cannot be used, in one line; None when it can. Voters may be empty (the
    user group's members, else the thread's participants vote then)."""
    if rule not in RULES:
        return f"unknown rule {rule!r} (one of: {', '.join(RULES)})"
    if user_group and not USER_GROUP_ID_RE.match(user_group):
        return f"{user_group!r} is not a user group id (like S0123ABCD)"
    if not isinstance(voters, list) or len(voters) > MAX_VOTERS:
        return f"voters must be a list of at most {MAX_VOTERS} user ids"
    for voter in voters:
        if not isinstance(voter, str) or not VOTER_ID_RE.match(voter):
            return f"{voter!r} is not a chat user id (like U0123ABCD)"
    if len(set(voters)) != len(voters):
        return "a voter is named twice"
    if not isinstance(weights, dict):
        return "weights must map user ids to whole numbers"
    if weights and rule != WEIGHTED:
        return "weights are only used by the weighted rule"
    for voter, weight in weights.items():
        if voters and not user_group and voter not in voters:
            return f"{voter} has a weight but is not a voter"
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= MAX_WEIGHT:
            return f"the weight of {voter} must be a whole number from 1 to {MAX_WEIGHT}"
    if not isinstance(quorum, int) or quorum < 0:
        return "the quorum must be a whole number, 0 or more"
    if voters and not user_group and quorum > len(voters):
        return f"a quorum of {quorum} can never be met by {len(voters)} voters"
    return None
