"""The votes page of a company's site: every vote on a tool call (open ones first), its tally,
ballots and execution. Read-only: anyone of the company with the ``votes.view_vote``
permission reads it; people vote in the chat, where the vote was asked.

A vote asked in a conversation private to someone else (``apps.core.privacy``) shows its tool,
status and tally only: its arguments, the advisors' reasons and the result quote that
conversation."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_safe

from apps.core.privacy import web_chat_person
from apps.core.web import workspace_page
from apps.tools.labels import tool_title
from apps.votes.forms import VoteFilterForm
from apps.votes.models import Ballot, Rule, Vote
from apps.votes.selectors import vote_count, vote_get, vote_list

PAGE_SIZE = 25
VIEW_PERMISSION = "votes.view_vote"
CHOICE_LABELS = dict(Ballot.Choice.choices)


def _require_view(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied


def _vote_shown(vote: Vote) -> Vote:
    """``vote`` with what its page prints: titles, tally, the rule's name, arguments as
    stored (masked when the vote opened; the encrypted ones are never read here)."""
    rule = (vote.rule or {}).get("rule", "")
    vote.tool_title = tool_title(vote.tool)
    vote.count = vote_count(vote)
    vote.rule_label = Rule(rule).label if rule in Rule.values else rule
    vote.arguments_shown = (
        [
            (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for key, value in (vote.arguments or {}).items()
        ]
        if vote.text_visible
        else []
    )
    ballots = sorted(vote.ballots.all(), key=lambda ballot: (ballot.created_at, ballot.pk))
    vote.people_ballots = [ballot for ballot in ballots if not ballot.advisory]
    vote.advisory_ballots = [ballot for ballot in ballots if ballot.advisory]
    return vote


@workspace_page
@require_safe
def votes(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    filters = VoteFilterForm(request.GET)
    if not filters.is_valid():
        context = {"filters": filters, "page": None}
        return render(request, "votes/vote_list.html", context, status=400)
    rows = vote_list(viewer=web_chat_person(request.user), status=filters.cleaned_data["status"])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for vote in page:
        _vote_shown(vote)
    return render(request, "votes/vote_list.html", {"filters": filters, "page": page})


@workspace_page
@require_safe
def vote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    vote = vote_get(vote_id=pk, viewer=web_chat_person(request.user))
    if vote is None:
        raise Http404
    _vote_shown(vote)
    for ballot in vote.people_ballots + vote.advisory_ballots:
        # Every choice the voter made, in order (the last one counts).
        ballot.changes = [
            (parse_datetime(str(change.get("at", ""))), CHOICE_LABELS.get(change.get("choice"), ""))
            for change in ballot.history
            if isinstance(change, dict)
        ]
    return render(request, "votes/vote_detail.html", {"vote": vote})
