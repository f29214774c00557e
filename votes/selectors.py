"""Reads for votes. Every selector takes the acting user (or member) and returns only
what they may see. Nothing here ever joins a ballot to a voter: nothing could."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, prefetch_related_objects

from union import permissions, registry
from union.models import Branch, Member, MemberStatus
from union.permissions import Perm
from votes import receipts
from votes.models import (
    Ballot,
    BallotChannel,
    BranchTally,
    SealedBallot,
    TallyEntry,
    Teller,
    Vote,
    VoteMark,
    VoteOption,
    VoteRoll,
    VoteStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


def eligible_members(branch: Branch) -> QuerySet[Member]:
    """Members who may vote in a vote of `branch` (every branch if it is the national level):
    members in good standing, as the registered standing rule (the dues app) decides.
    Without a rule this raises; it never falls back to "every active member"."""
    members = Member.objects.filter(status=MemberStatus.ACTIVE)
    if not branch.is_national:
        members = members.filter(branch=branch)
    return registry.in_good_standing(members)


def manageable_votes(user: AnyUser) -> QuerySet[Vote]:
    """Votes the user may run: their branches' (MANAGE_VOTES); national ones for national roles."""
    scope = permissions.scope_for(user, Perm.MANAGE_VOTES)
    if not scope:
        return Vote.objects.none()
    qs = Vote.objects.select_related("branch")
    return qs if scope.everywhere else qs.filter(branch_id__in=scope.branch_ids)


def assembly_votes(user: AnyUser) -> QuerySet[Vote]:
    """Open or recently closed votes in which the user may check members in or enter tallies."""
    scope = permissions.scope_for(user, Perm.RUN_ASSEMBLY)
    if not scope:
        return Vote.objects.none()
    qs = Vote.objects.select_related("branch").filter(
        status__in=[VoteStatus.OPEN, VoteStatus.TELLERS, VoteStatus.COUNTING, VoteStatus.HELD]
    )
    if scope.everywhere:
        return qs
    return qs.filter(Q(branch_id__in=scope.branch_ids) | Q(branch__is_national=True))


def may_manage(user: AnyUser, vote: Vote) -> bool:
    scope = permissions.scope_for(user, Perm.MANAGE_VOTES)
    return scope.everywhere if vote.branch.is_national else scope.allows(vote.branch_id)


def votes_for_member(member: Member) -> QuerySet[Vote]:
    """Votes a member can see: those of their branch and national ones, once scheduled."""
    on_roll = VoteRoll.objects.filter(vote=OuterRef("pk"), member=member)
    voted = VoteMark.objects.filter(vote=OuterRef("pk"), member=member)
    return (
        Vote.objects.filter(Q(branch_id=member.branch_id) | Q(branch__is_national=True))
        .exclude(status__in=[VoteStatus.DRAFT, VoteStatus.CANCELLED])
        .annotate(on_roll=Exists(on_roll), voted=Exists(voted))
        .select_related("branch")
    )


# votes_for_member() for one vote, written out: every step of every ballot reads it, and the
# ORM took four times as long to build this query as the database to run it.
# The table names come from the models, once; nothing but the parameters varies.
VISIBLE_VOTE_SQL = f"""
SELECT v.*,
    EXISTS (SELECT 1 FROM {VoteRoll._meta.db_table} r
        WHERE r.vote_id = v.id AND r.member_id = %s) AS on_roll,
    EXISTS (SELECT 1 FROM {VoteMark._meta.db_table} m
        WHERE m.vote_id = v.id AND m.member_id = %s) AS voted
FROM {Vote._meta.db_table} v JOIN {Branch._meta.db_table} b ON b.id = v.branch_id
WHERE v.public_id = %s AND v.status NOT IN (%s, %s) AND (v.branch_id = %s OR b.is_national)
"""  # noqa: S608


# A vote's choices are fixed once it leaves the draft (services.drafting.schedule_vote):
# each process keeps them after their first read, so that the thousands of ballot steps of
# an election do not read them again. Read only: the same objects serve every request.
_fixed_options: OrderedDict[int, list[VoteOption]] = OrderedDict()
_fixed_options_lock = threading.Lock()
FIXED_OPTIONS_KEPT = 64  # votes


def load_options(vote: Vote) -> None:
    """What prefetch_related_objects([vote], "options") does, from memory once fixed."""
    if vote.status == VoteStatus.DRAFT:
        prefetch_related_objects([vote], "options")
        return
    with _fixed_options_lock:
        options = _fixed_options.get(vote.pk)
    if options is None:
        options = list(vote.options.all())
        with _fixed_options_lock:
            _fixed_options[vote.pk] = options
            while len(_fixed_options) > FIXED_OPTIONS_KEPT:
                _fixed_options.popitem(last=False)
    queryset = vote.options.all()
    queryset._result_cache = list(options)
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    prefetched = getattr(vote, "_prefetched_objects_cache", {})
    vote._prefetched_objects_cache = {**prefetched, "options": queryset}  # type: ignore[attr-defined]


def visible_vote(member: Member, public_id: str | uuid.UUID) -> Vote | None:
    """One of votes_for_member(member), by public id, with on_roll and voted."""
    key = Vote._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    found = Vote.objects.raw(
        VISIBLE_VOTE_SQL,
        [member.pk, member.pk, key, VoteStatus.DRAFT, VoteStatus.CANCELLED, member.branch_id],
    )
    return next(iter(found), None)


def is_on_roll(vote: Vote, member: Member) -> bool:
    return VoteRoll.objects.filter(vote=vote, member=member).exists()


def has_voted(vote: Vote, member: Member) -> bool:
    return VoteMark.objects.filter(vote=vote, member=member).exists()


def published_ballots(vote: Vote) -> QuerySet[Ballot]:
    """The ballots of a published vote, in receipt order (random, unrelated to time)."""
    if vote.status != VoteStatus.PUBLISHED:
        return Ballot.objects.none()
    return Ballot.objects.filter(vote=vote).order_by("receipt_hash")


def sealed_ballots(vote: Vote) -> QuerySet[SealedBallot]:
    """The sealed ballots of a vote, from opening until the tellers open the box, in the
    order of their random keys: nothing to do with when or by whom they were cast."""
    if vote.public_key is None or vote.status in (VoteStatus.DRAFT, VoteStatus.SCHEDULED):
        return SealedBallot.objects.none()
    return SealedBallot.objects.filter(vote=vote).order_by("id")


@dataclass(frozen=True)
class FoundReceipt:
    fingerprint: str
    choices: list[int] | None  # None while the ballot is sealed


def find_receipt(vote: Vote, code: str) -> FoundReceipt | None:
    """The ballot a receipt code belongs to: sealed while the vote is open and until the
    count, opened once the result is published (the same code finds both). One slow hash
    per call (votes.receipts): the screens limit how often a member may call it."""
    if vote.public_key is None:
        if vote.status != VoteStatus.PUBLISHED:
            return None
        wanted = receipts.legacy_hash(code)
        ballot = published_ballots(vote).filter(receipt_hash=wanted).first()
        if ballot is None:
            return None
        return FoundReceipt(receipts.fingerprint(ballot.receipt_hash), list(ballot.choices))
    key = receipts.receipt_key(code, bytes(vote.receipt_salt or b""))
    if vote.status == VoteStatus.PUBLISHED:
        ballot = published_ballots(vote).filter(receipt_hash=receipts.counted_hash(key)).first()
        if ballot is None:
            return None
        return FoundReceipt(receipts.fingerprint(ballot.receipt_hash), list(ballot.choices))
    sealed = sealed_ballots(vote).filter(lookup=receipts.sealed_lookup(key)).first()
    if sealed is None:
        return None
    return FoundReceipt(receipts.box_fingerprint(bytes(sealed.sealed)), None)


def tellers_of(user: AnyUser, vote: Vote) -> QuerySet[Teller]:
    """A vote's tellers and where their key sheets stand: for those who run it."""
    if not may_manage(user, vote):
        return Teller.objects.none()
    return Teller.objects.filter(vote=vote).select_related("member").order_by("number")


def key_sheets_for(member: Member) -> QuerySet[Teller]:
    """The member's own teller places in votes not yet counted, newest first."""
    return (
        Teller.objects.filter(member=member)
        .exclude(vote__status__in=[VoteStatus.PUBLISHED, VoteStatus.CANCELLED])
        .select_related("vote")
        .order_by("-vote__opens_at")
    )


def marks_for(user: AnyUser, vote: Vote) -> QuerySet[VoteMark]:
    """Who voted (never how): for those who run the vote."""
    if not may_manage(user, vote):
        return VoteMark.objects.none()
    return VoteMark.objects.filter(vote=vote).select_related("member", "branch")


@dataclass(frozen=True)
class TallyProgress:
    """Where one branch's paper count stands, for the officers counting it. Never the
    numbers of an unconfirmed entry: the second officer must count without seeing them."""

    branch: Branch
    given_out: int  # paper ballots handed to checked-in members
    confirmed: int | None  # ballots in the confirmed tally, None until two officers agree
    entries: int  # officers who have entered a count (unconfirmed)
    mine: bool  # the acting officer is one of them


def tally_progress(user: AnyUser, vote: Vote, branches: QuerySet[Branch]) -> list[TallyProgress]:
    """Branches among `branches` that gave out paper ballots or have a count entered."""
    given_out = dict(
        VoteMark.objects.filter(vote=vote, channel=BallotChannel.PAPER, branch__in=branches)
        .values_list("branch_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    confirmed = dict(
        BranchTally.objects.filter(vote=vote, branch__in=branches).values_list(
            "branch_id", "ballots"
        )
    )
    entered: dict[int, list[int]] = {}
    for branch_id, officer_id in TallyEntry.objects.filter(
        vote=vote, branch__in=branches
    ).values_list("branch_id", "officer_id"):
        entered.setdefault(branch_id, []).append(officer_id)
    wanted = set(given_out) | set(confirmed) | set(entered)
    return [
        TallyProgress(
            branch=branch,
            given_out=given_out.get(branch.pk, 0),
            confirmed=confirmed.get(branch.pk),
            entries=len(entered.get(branch.pk, [])),
            mine=user.pk in entered.get(branch.pk, []),
        )
        for branch in branches.filter(pk__in=wanted).order_by("name")
    ]


def tallies_to_count(user: AnyUser) -> int:
    """Branch paper tallies in the user's branches that another officer has entered and that
    wait for a second count (the office home's count): none is confirmed yet, and this user
    has not entered one."""
    scope = permissions.scope_for(user, Perm.RUN_ASSEMBLY)
    if not scope:
        return 0
    confirmed = BranchTally.objects.filter(vote=OuterRef("vote"), branch=OuterRef("branch"))
    mine = TallyEntry.objects.filter(
        vote=OuterRef("vote"), branch=OuterRef("branch"), officer_id=user.pk
    )
    return (
        TallyEntry.objects.filter(scope.filter("branch"))
        .filter(vote__status__in=[VoteStatus.OPEN, VoteStatus.COUNTING, VoteStatus.HELD])
        .exclude(Exists(confirmed))
        .exclude(Exists(mine))
        .values("vote_id", "branch_id")
        .distinct()
        .count()
    )
