"""The rules that decide a vote, as pure functions: pass, fail and the edges of each."""

from __future__ import annotations

import pytest

from apps.votes import rules
from apps.votes.rules import BallotView, RuleSpec, policy_problem, tally

THREE = ("U1", "U2", "U3")


def yes(voter, advisory=False):
    return BallotView(voter=voter, approve=True, advisory=advisory)


def no(voter, advisory=False):
    return BallotView(voter=voter, approve=False, advisory=advisory)


def outcome(rule, ballots, voters=THREE, **options):
    return tally(RuleSpec(rule=rule, voters=voters, **options), ballots).outcome


# --- none and single ---------------------------------------------------------------------


def test_no_rule_passes_without_a_ballot():
    assert outcome(rules.NONE, []) == rules.PASSED


def test_single_passes_on_one_approval():
    assert outcome(rules.SINGLE, [yes("U2")]) == rules.PASSED


def test_single_waits_while_someone_may_still_approve():
    assert outcome(rules.SINGLE, [no("U1"), no("U2")]) == rules.PENDING


def test_single_is_rejected_when_every_voter_rejected():
    assert outcome(rules.SINGLE, [no("U1"), no("U2"), no("U3")]) == rules.REJECTED


def test_single_with_a_quorum_waits_for_enough_ballots():
    assert outcome(rules.SINGLE, [yes("U1")], quorum=2) == rules.PENDING
    assert outcome(rules.SINGLE, [yes("U1"), no("U2")], quorum=2) == rules.PASSED


def test_a_ballot_from_outside_the_electorate_is_ignored():
    assert outcome(rules.SINGLE, [yes("U9")]) == rules.PENDING


def test_nobody_to_vote_can_never_pass():
    assert outcome(rules.SINGLE, [], voters=()) == rules.REJECTED


# --- majority ----------------------------------------------------------------------------


def test_majority_passes_with_more_than_half():
    assert outcome(rules.MAJORITY, [yes("U1"), yes("U2")]) == rules.PASSED


def test_majority_is_rejected_once_half_rejected():
    assert outcome(rules.MAJORITY, [no("U1"), no("U2")]) == rules.REJECTED


def test_majority_tie_is_not_a_majority():
    four = ("U1", "U2", "U3", "U4")
    assert outcome(rules.MAJORITY, [yes("U1"), yes("U2")], voters=four) == rules.PENDING
    tied = [yes("U1"), yes("U2"), no("U3"), no("U4")]
    assert outcome(rules.MAJORITY, tied, voters=four) == rules.REJECTED


def test_majority_waits_while_undecided():
    assert outcome(rules.MAJORITY, [yes("U1"), no("U2")]) == rules.PENDING


def test_majority_reached_but_quorum_not_met_waits():
    five = ("U1", "U2", "U3", "U4", "U5")
    ballots = [yes("U1"), yes("U2"), yes("U3")]
    assert outcome(rules.MAJORITY, ballots, voters=five, quorum=4) == rules.PENDING
    assert outcome(rules.MAJORITY, [*ballots, no("U4")], voters=five, quorum=4) == rules.PASSED


# --- qualified majority --------------------------------------------------------------------


def test_two_thirds_pass_with_two_of_three():
    assert outcome(rules.QUALIFIED_MAJORITY, [yes("U1"), yes("U3")]) == rules.PASSED


def test_two_thirds_one_of_three_waits():
    assert outcome(rules.QUALIFIED_MAJORITY, [yes("U1")]) == rules.PENDING


def test_two_thirds_fail_as_soon_as_two_thirds_cannot_be_reached():
    assert outcome(rules.QUALIFIED_MAJORITY, [yes("U1"), no("U2")]) == rules.PENDING
    assert outcome(rules.QUALIFIED_MAJORITY, [no("U1"), no("U2")]) == rules.REJECTED


def test_two_thirds_exactly_is_enough_and_just_under_is_not():
    six = tuple(f"U{n}" for n in range(1, 7))
    four = [yes(v) for v in six[:4]]
    assert outcome(rules.QUALIFIED_MAJORITY, four, voters=six) == rules.PASSED
    three = [yes(v) for v in six[:3]]
    assert outcome(rules.QUALIFIED_MAJORITY, three, voters=six) == rules.PENDING


# --- consensus ---------------------------------------------------------------------------


def test_consensus_passes_when_everyone_approves():
    assert outcome(rules.CONSENSUS, [yes(v) for v in THREE]) == rules.PASSED


def test_consensus_waits_for_everyone_by_default():
    assert outcome(rules.CONSENSUS, [yes("U1"), yes("U2")]) == rules.PENDING


def test_consensus_passes_at_its_quorum_without_a_rejection():
    assert outcome(rules.CONSENSUS, [yes("U1"), yes("U2")], quorum=2) == rules.PASSED


def test_consensus_fails_on_one_rejection():
    assert outcome(rules.CONSENSUS, [yes("U1"), yes("U2"), no("U3")], quorum=2) == rules.REJECTED


# --- weighted ---------------------------------------------------------------------------


def test_weighted_heavy_voter_alone_passes():
    spec = {"weights": {"U1": 3}}  # 3 of a total 5
    assert outcome(rules.WEIGHTED, [yes("U1")], **spec) == rules.PASSED


def test_weighted_light_voters_together_do_not_outweigh_the_heavy_one():
    spec = {"weights": {"U1": 3}}
    assert outcome(rules.WEIGHTED, [yes("U2"), yes("U3")], **spec) == rules.PENDING
    assert outcome(rules.WEIGHTED, [yes("U2"), yes("U3"), no("U1")], **spec) == rules.REJECTED


def test_weighted_tie_of_weights_is_rejected():
    spec = {"weights": {"U1": 2, "U2": 1, "U3": 1}}  # total 4: 2 against 2
    assert outcome(rules.WEIGHTED, [yes("U1"), no("U2"), no("U3")], **spec) == rules.REJECTED


def test_weighted_quorum_stops_a_heavy_voter_deciding_alone():
    spec = {"weights": {"U1": 3}, "quorum": 2}
    assert outcome(rules.WEIGHTED, [yes("U1")], **spec) == rules.PENDING
    assert outcome(rules.WEIGHTED, [yes("U1"), no("U2")], **spec) == rules.PASSED


def test_weights_apply_only_to_the_weighted_rule():
    result = tally(RuleSpec(rule=rules.MAJORITY, voters=THREE, weights={"U1": 5}), [yes("U1")])
    assert result.approve_weight == 1 and result.outcome == rules.PENDING


# --- changed ballots and advisory ones -------------------------------------------------------


def test_a_voter_who_changes_their_ballot_counts_once_with_the_latest_choice():
    ballots = [yes("U1"), yes("U2"), no("U2")]
    result = tally(RuleSpec(rule=rules.QUALIFIED_MAJORITY, voters=THREE), ballots)
    # Two approvals would have passed; U2 changed their mind.
    assert (result.approvals, result.rejections, result.outcome) == (1, 1, rules.PENDING)


def test_an_advisory_ballot_is_not_counted_unless_the_policy_says_so():
    ballots = [yes("U1"), yes("atlas", advisory=True)]
    assert outcome(rules.QUALIFIED_MAJORITY, ballots) == rules.PENDING
    assert outcome(rules.QUALIFIED_MAJORITY, ballots, voters=("U1",)) == rules.PASSED


def test_counted_advisory_ballots_join_the_electorate():
    spec = RuleSpec(rule=rules.QUALIFIED_MAJORITY, voters=THREE, counts_advisory=True)
    result = tally(spec, [yes("U1"), yes("atlas", True), yes("cirrus", True)])
    assert result.electorate == 5 and result.approvals == 3 and result.outcome == rules.PENDING
    result = tally(spec, [yes("U1"), yes("U2"), yes("atlas", True), yes("cirrus", True)])
    assert result.outcome == rules.PASSED


def test_an_advisory_ballot_from_a_non_advisor_is_ignored():
    spec = RuleSpec(rule=rules.SINGLE, voters=THREE, counts_advisory=True)
    assert tally(spec, [yes("nox", advisory=True)]).outcome == rules.PENDING


# --- what a policy may say -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ({"rule": "unanimous"}, "unknown rule"),
        ({"voters": ["alice"]}, "not a chat user id"),
        ({"voters": ["U1AA", "U1AA"]}, "named twice"),
        ({"weights": {"U1AA": 2}}, "only used by the weighted rule"),
        ({"rule": "weighted", "voters": ["U1AA"], "weights": {"U2BB": 2}}, "not a voter"),
        ({"rule": "weighted", "voters": ["U1AA"], "weights": {"U1AA": 0}}, "from 1 to"),
        ({"voters": ["U1AA", "U2BB"], "quorum": 3}, "can never be met"),
        ({"quorum": -1}, "0 or more"),
    ],
)
def test_a_policy_that_cannot_work_is_refused_with_the_reason(policy, problem):
    values = {"rule": "majority", "voters": [], "weights": {}, "quorum": 0, **policy}
    assert problem in policy_problem(**values)


def test_a_sound_policy_has_no_problem():
    assert (
        policy_problem(rule="weighted", voters=["U1AA", "W2BB"], weights={"U1AA": 2}, quorum=2)
        is None
    )


# --- what passes a vote (the pages' "approvals of needed") ----------------------------------


@pytest.mark.parametrize(
    ("rule", "voters", "needed"),
    [
        (rules.NONE, 3, 0),
        (rules.SINGLE, 3, 1),
        (rules.MAJORITY, 4, 3),
        (rules.MAJORITY, 3, 2),
        (rules.QUALIFIED_MAJORITY, 3, 2),
        (rules.QUALIFIED_MAJORITY, 4, 3),
        (rules.CONSENSUS, 4, 4),
    ],
)
def test_approvals_needed_is_the_fewest_approvals_that_pass(rule, voters, needed):
    spec = RuleSpec(rule=rule, voters=tuple(f"U{n}" for n in range(voters)))

    assert rules.approvals_needed(spec) == needed
    if needed:
        approvals = [yes(voter) for voter in spec.voters[:needed]]
        assert tally(spec, approvals).outcome == rules.PASSED
        assert tally(spec, approvals[:-1]).outcome != rules.PASSED


def test_approvals_needed_under_the_weighted_rule_is_a_weight():
    spec = RuleSpec(rule=rules.WEIGHTED, voters=("U1", "U2"), weights={"U1": 3})

    assert rules.approvals_needed(spec) == 3  # more than half of 4
