"""The tellers of a vote and their key sheets, up to the vote's opening.

Those who run the vote choose the tellers while it is a draft or scheduled (the officer who
creates it is the first). Each teller then makes her own key sheet on her own screen: the
server shows it once and keeps only its public key. She types its words back to confirm
she has it. A vote opens only once every teller has confirmed (drafting.open_vote), and at
opening her share of the vote's key is sealed to her sheet (votes.sealing). A sheet lost
before the vote opens is simply made again; after, the others' sheets still count it as
long as k of them are left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from union.models import Member, MemberStatus
from votes import sealing
from votes.audit import VoteAction
from votes.models import Teller, Vote, VoteStatus
from votes.services.common import record_vote_access, require_manage

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_TELLERS = 9
BEFORE_OPENING = (VoteStatus.DRAFT, VoteStatus.SCHEDULED)


def _lock_before_opening(vote: Vote) -> Vote:
    vote = Vote.objects.select_for_update(of=("self",)).select_related("branch").get(pk=vote.pk)
    if vote.status not in BEFORE_OPENING:
        raise ValidationError(
            _("Tellers and their key sheets can only change before the vote opens.")
        )
    return vote


def add_teller(*, actor: User, vote: Vote, member: Member) -> Teller:
    """A teller, numbered after the others. Side effect: she is told to sign in and make
    her key sheet (outbox; neutral text), unless she is the one adding herself."""
    from union.notifications.services import notify_member

    require_manage(actor, vote)
    if member.user_id is None or member.status != MemberStatus.ACTIVE:
        raise ValidationError(_("A teller must be an active member who can sign in."))
    if not (
        vote.branch.is_national or member.branch_id == vote.branch_id or member.branch.is_national
    ):
        raise ValidationError(_("A teller must be a member of the branch that votes, or national."))
    with transaction.atomic():
        vote = _lock_before_opening(vote)
        tellers = list(vote.tellers.all())
        if any(t.member_id == member.pk for t in tellers):
            raise ValidationError(_("This member is already a teller of this vote."))
        if len(tellers) >= MAX_TELLERS:
            raise ValidationError(_("A vote has at most 9 tellers."))
        taken = {t.number for t in tellers}
        number = min(n for n in range(1, MAX_TELLERS + 1) if n not in taken)
        teller = Teller.objects.create(vote=vote, number=number, member=member)
        record_vote_access(actor=actor, action=VoteAction.TELLER_ADD, vote=vote)
        if getattr(actor, "member", None) != member:
            notify_member(
                member=member,
                kind="vote_teller",
                dedupe_key=f"vote-teller:{vote.pk}:{member.pk}",
                context={},
            )
    return teller


def remove_teller(*, actor: User, teller: Teller) -> None:
    """Before the vote opens. A teller already removed (a second click) is left alone."""
    require_manage(actor, teller.vote)
    with transaction.atomic():
        vote = _lock_before_opening(teller.vote)
        removed, _by_model = Teller.objects.filter(pk=teller.pk, vote=vote).delete()
        if removed:
            record_vote_access(actor=actor, action=VoteAction.TELLER_REMOVE, vote=vote)


def teller_of(member: Member | None, vote: Vote) -> Teller | None:
    if member is None:
        return None
    return Teller.objects.filter(vote=vote, member=member).first()


def make_key_sheet(*, actor: User, vote: Vote) -> sealing.KeySheet:
    """The acting teller's key sheet, made now and returned to be shown once; the server
    keeps its public key only. A sheet made but not confirmed may be made again (the page
    was closed before printing); a confirmed one is reset by those who run the vote."""
    member = getattr(actor, "member", None)
    with transaction.atomic():
        vote = _lock_before_opening(vote)
        teller = Teller.objects.select_for_update().filter(vote=vote, member=member).first()
        if teller is None:
            raise PermissionDenied
        if teller.confirmed_at is not None:
            raise ValidationError(
                _(
                    "Your key sheet is already made and confirmed. If you lost it, ask the "
                    "returning officer to reset it."
                )
            )
        sheet = sealing.new_key_sheet(vote.public_id)
        teller.public_key = sheet.public_key
        teller.sheet_made_at = timezone.now()
        teller.save(update_fields=["public_key", "sheet_made_at"])
        record_vote_access(actor=actor, action=VoteAction.SHEET_MADE, vote=vote)
    return sheet


def confirm_key_sheet(*, actor: User, vote: Vote, words: str) -> Teller:
    """The teller types her sheet's words back. Raises a translated ValidationError if they
    are not her sheet's; a second confirmation changes nothing."""
    member = getattr(actor, "member", None)
    try:
        seed = sealing.seed_from_words(words)
    except sealing.SheetError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        vote = _lock_before_opening(vote)
        teller = Teller.objects.select_for_update().filter(vote=vote, member=member).first()
        if teller is None:
            raise PermissionDenied
        if teller.public_key is None:
            raise ValidationError(_("Make your key sheet first."))
        if sealing.sheet_public_key(seed, vote.public_id) != bytes(teller.public_key):
            raise ValidationError(
                _("These words are a key sheet, but not your latest one for this vote.")
            )
        if teller.confirmed_at is None:
            teller.confirmed_at = timezone.now()
            teller.save(update_fields=["confirmed_at"])
            record_vote_access(actor=actor, action=VoteAction.SHEET_CONFIRM, vote=vote)
    return teller


def reset_key_sheet(*, actor: User, teller: Teller) -> Teller:
    """A teller lost her sheet before the vote opened: she makes a new one. The vote does
    not open until she has confirmed it."""
    require_manage(actor, teller.vote)
    with transaction.atomic():
        vote = _lock_before_opening(teller.vote)
        teller = Teller.objects.select_for_update().get(pk=teller.pk, vote=vote)
        if teller.public_key is None:
            return teller
        teller.public_key = None
        teller.sheet_made_at = None
        teller.confirmed_at = None
        teller.save(update_fields=["public_key", "sheet_made_at", "confirmed_at"])
        record_vote_access(actor=actor, action=VoteAction.SHEET_RESET, vote=vote)
    return teller


def tellers_ready(vote: Vote, tellers: list[Teller]) -> list[str]:
    """Why the vote cannot open yet with these tellers; empty when it can."""
    problems = []
    if len(tellers) <= vote.shares_needed:
        problems.append(
            _(
                "Add at least %(n)s tellers: %(k)s key sheets are needed at the count, and one "
                "more so that a lost sheet does not stop it."
            )
            % {"n": vote.shares_needed + 1, "k": vote.shares_needed}
        )
    if any(t.confirmed_at is None for t in tellers):
        problems.append(_("Every teller must make their key sheet and confirm it."))
    return problems
