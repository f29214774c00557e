"""The tellers' key sheets and the count: k of n sheets open the ballot box, fewer do not,
a lost sheet does not stop the count, wrong words change nothing and say which sheet.

Every vote of make_vote has three tellers (1: the secretary who made it, 2 and 3: two
national members) and needs 2 sheets.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from mnemonic import Mnemonic

from tests.factories import MemberFactory
from tests.votes.conftest import (
    add_tellers,
    close_now,
    count_now,
    give_sheets,
    open_box,
    opened_before_sealing,
    sheet_words,
)
from union.models import AuditEvent, Notification
from votes import receipts, results, sealing
from votes.audit import VoteAction
from votes.models import Ballot, SealedBallot, Teller, Vote, VoteKind, VoteStatus
from votes.services import casting, counting, drafting, tellers, unsealing

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _closed_with_ballots(make_vote, bamako, rankings=([1, 2], [2], [3, 1])):
    voters = MemberFactory.create_batch(len(rankings), branch=bamako)
    vote = make_vote()
    codes = [
        casting.cast_ballot(vote=vote, member=v, choices=list(r))
        for v, r in zip(voters, rankings, strict=True)
    ]
    close_now(vote)
    counting.claim_due_closures()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.TELLERS
    return vote, codes


def _unchanged(vote: Vote, sealed: int) -> None:
    vote.refresh_from_db()
    assert vote.status == VoteStatus.TELLERS and vote.result is None
    assert SealedBallot.objects.filter(vote=vote).count() == sealed
    assert not Ballot.objects.filter(vote=vote).exists()
    assert not AuditEvent.objects.filter(action=VoteAction.UNSEAL).exists()


@pytest.mark.parametrize("pair", [(1, 2), (1, 3), (2, 3)])
def test_any_two_of_the_three_sheets_open_the_box_and_the_vote_is_counted(make_vote, bamako, pair):
    vote, codes = _closed_with_ballots(make_vote, bamako)
    assert open_box(vote, pair) == VoteStatus.PUBLISHED
    vote.refresh_from_db()
    assert vote.unsealed_at is not None
    assert sorted(
        map(tuple, Ballot.objects.filter(vote=vote).values_list("choices", flat=True))
    ) == [
        (1, 2),
        (2,),
        (3, 1),
    ]
    assert not SealedBallot.objects.filter(vote=vote).exists()
    assert [t["votes"] for t in vote.result["totals"]] == [1, 1, 1]
    row = AuditEvent.objects.get(action=VoteAction.UNSEAL)
    assert row.rows == 3 and row.target == f"vote:{vote.public_id}"
    # The shares are gone with the sealed ballots: a sheet found later opens nothing.
    assert not Teller.objects.filter(vote=vote, sealed_share__isnull=False).exists()
    # Each receipt finds its ballot among the published ones, by the hash it carried.
    salt = bytes(vote.receipt_salt)
    published = {b.receipt_hash: b.choices for b in Ballot.objects.filter(vote=vote)}
    for code, ranking in zip(codes, [[1, 2], [2], [3, 1]], strict=True):
        assert published[receipts.counted_hash(receipts.receipt_key(code, salt))] == ranking


def test_one_sheet_alone_does_not_open_the_box_and_changes_nothing(make_vote, bamako):
    vote, _codes = _closed_with_ballots(make_vote, bamako)
    with pytest.raises(ValidationError, match="2 key sheets are needed to open the ballot box"):
        open_box(vote, (2,))
    _unchanged(vote, 3)
    with pytest.raises(ValidationError, match="2 key sheets are needed"):
        unsealing.open_ballot_box(actor=vote.created_by, vote=vote, sheets={1: "", 2: "  "})
    _unchanged(vote, 3)
    assert open_box(vote, (1, 2)) == VoteStatus.PUBLISHED


def test_a_sheet_lost_after_opening_does_not_stop_the_count(make_vote, bamako):
    # Teller 1 lost their sheet during the vote: nobody can make it again, and nobody needs to.
    vote, _codes = _closed_with_ballots(make_vote, bamako)
    assert open_box(vote, (2, 3)) == VoteStatus.PUBLISHED


def test_a_sheet_lost_before_opening_is_made_again_and_the_old_one_no_longer_works(
    make_vote, bamako, secretary
):
    voters = MemberFactory.create_batch(2, branch=bamako)
    vote = make_vote(opens_at=timezone.now() + timedelta(hours=1))
    assert vote.status == VoteStatus.SCHEDULED
    old_words = sheet_words(vote, 2)
    teller = vote.tellers.get(number=2)
    tellers.reset_key_sheet(actor=secretary.user, teller=teller)
    # Its time comes while teller 2 has no sheet: it does not open, and its officer is told.
    Vote.objects.filter(pk=vote.pk).update(opens_at=timezone.now() - timedelta(minutes=1))
    assert drafting.open_vote(vote.pk) is False
    assert drafting.open_vote(vote.pk) is False
    alert = Notification.objects.get(kind="vote_tellers")
    assert alert.member == secretary
    vote.refresh_from_db()
    assert vote.status == VoteStatus.SCHEDULED and vote.public_key is None
    # Teller 2 makes a new sheet and confirms it; the vote opens on the next tick.
    user = teller.member.user
    sheet = tellers.make_key_sheet(actor=user, vote=vote)
    new_words = " ".join(sheet.words("english"))
    with pytest.raises(ValidationError, match="not your latest one"):
        tellers.confirm_key_sheet(actor=user, vote=vote, words=old_words)
    tellers.confirm_key_sheet(actor=user, vote=vote, words=new_words)
    assert drafting.open_vote(vote.pk) is True
    vote.refresh_from_db()
    for voter in voters:
        casting.cast_ballot(vote=vote, member=voter, choices=[2])
    close_now(vote)
    counting.claim_due_closures()
    vote.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        unsealing.open_ballot_box(
            actor=secretary.user, vote=vote, sheets={1: sheet_words(vote, 1), 2: old_words}
        )
    assert "teller_2" in refused.value.error_dict
    _unchanged(vote, 2)
    status = unsealing.open_ballot_box(
        actor=secretary.user, vote=vote, sheets={1: sheet_words(vote, 1), 2: new_words}
    )
    assert status == VoteStatus.PUBLISHED


def _swap(words: str) -> str:
    """Two neighbouring words swapped. The checksum (4 bits for 12 words) lets 1 swap in 16
    through, so take the first swap it catches, as a teller's slip would most often be."""
    parts = words.split()
    for i in range(len(parts) - 1):
        swapped = [*parts[:i], parts[i + 1], parts[i], *parts[i + 2 :]]
        language = Mnemonic(Mnemonic.detect_language(words))
        if parts[i] != parts[i + 1] and not language.check(" ".join(swapped)):
            return " ".join(swapped)
    raise AssertionError("no swap of neighbouring words breaks this sheet's checksum")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda vote: "xylophonic " + " ".join(sheet_words(vote, 1).split()[1:]), "not a word"),
        (lambda vote: _swap(sheet_words(vote, 1)), "do not go together"),
        (lambda vote: " ".join(sheet_words(vote, 1).split()[:11]), "has 11"),
        (lambda vote: sheet_words(vote, 3), "not this teller's sheet"),
    ],
)
def test_wrong_words_are_refused_next_to_that_sheet_and_change_nothing(
    make_vote, bamako, wrong, message
):
    vote, _codes = _closed_with_ballots(make_vote, bamako)
    with pytest.raises(ValidationError) as refused:
        unsealing.open_ballot_box(
            actor=vote.created_by, vote=vote, sheets={1: wrong(vote), 2: sheet_words(vote, 2)}
        )
    errors = refused.value.error_dict
    assert set(errors) == {"teller_1"}
    assert message in str(errors["teller_1"][0].messages[0])
    _unchanged(vote, 3)
    assert open_box(vote, (1, 2)) == VoteStatus.PUBLISHED


def test_a_sheet_of_another_vote_is_refused(make_vote, bamako):
    vote, _codes = _closed_with_ballots(make_vote, bamako)
    other = make_vote(title="Another vote")
    with pytest.raises(ValidationError, match="not this teller's sheet"):
        unsealing.open_ballot_box(
            actor=vote.created_by,
            vote=vote,
            sheets={1: sheet_words(other, 1), 2: sheet_words(vote, 2)},
        )
    _unchanged(vote, 3)


def test_only_those_who_run_the_vote_open_the_box(make_vote, bamako, member, other_secretary):
    vote, _codes = _closed_with_ballots(make_vote, bamako)
    for outsider in (member, other_secretary):
        with pytest.raises(PermissionDenied):
            open_box(vote, (1, 2), actor=outsider.user)
    _unchanged(vote, 3)


def test_a_vote_does_not_schedule_without_one_teller_more_than_its_sheets(
    secretary, bamako, national
):
    now = timezone.now()
    vote = drafting.create_vote(
        actor=secretary.user,
        spec=drafting.VoteSpec(
            kind=VoteKind.MOTION,
            title="Motion",
            text="",
            branch=bamako,
            opens_at=now + timedelta(days=1),
            closes_at=now + timedelta(days=2),
            threshold="simple",
            shares_needed=3,
        ),
    )
    add_tellers(vote, national, n=2)  # 3 tellers for 3 sheets: one lost would stop it
    give_sheets(vote)
    with pytest.raises(ValidationError, match="Add at least 4 tellers"):
        drafting.schedule_vote(actor=secretary.user, vote=vote)
    add_tellers(vote, national, n=1)
    with pytest.raises(ValidationError, match="Every teller must make their key sheet"):
        drafting.schedule_vote(actor=secretary.user, vote=vote)
    give_sheets(vote)
    assert drafting.schedule_vote(actor=secretary.user, vote=vote).status == VoteStatus.SCHEDULED
    # Tellers can no longer change once the vote is open.
    with pytest.raises(ValidationError, match="Between 2 and 8"):
        drafting.create_vote(
            actor=secretary.user,
            spec=drafting.VoteSpec(
                kind=VoteKind.MOTION,
                title="One sheet",
                text="",
                branch=bamako,
                opens_at=now + timedelta(days=1),
                closes_at=now + timedelta(days=2),
                threshold="simple",
                shares_needed=1,
            ),
        )


def test_tellers_do_not_change_once_the_vote_is_open(make_vote, national, secretary):
    vote = make_vote()
    newcomer = MemberFactory(branch=national, with_login=True)
    with pytest.raises(ValidationError, match="before the vote opens"):
        tellers.add_teller(actor=secretary.user, vote=vote, member=newcomer)
    with pytest.raises(ValidationError, match="before the vote opens"):
        tellers.reset_key_sheet(actor=secretary.user, teller=vote.tellers.get(number=2))
    with pytest.raises(ValidationError, match="before the vote opens"):
        tellers.make_key_sheet(actor=vote.tellers.get(number=2).member.user, vote=vote)
    assert vote.tellers.count() == 3


def test_a_teller_must_sign_in_and_belong_to_the_branch_or_the_national_level(
    secretary, bamako, segou, national
):
    now = timezone.now()
    vote = drafting.create_vote(
        actor=secretary.user,
        spec=drafting.VoteSpec(
            kind=VoteKind.MOTION,
            title="Motion",
            text="",
            branch=bamako,
            opens_at=now + timedelta(days=1),
            closes_at=now + timedelta(days=2),
            threshold="simple",
        ),
    )
    with pytest.raises(ValidationError, match="can sign in"):
        tellers.add_teller(actor=secretary.user, vote=vote, member=MemberFactory(branch=bamako))
    with pytest.raises(ValidationError, match="member of the branch"):
        tellers.add_teller(
            actor=secretary.user, vote=vote, member=MemberFactory(branch=segou, with_login=True)
        )
    with pytest.raises(ValidationError, match="already a teller"):
        tellers.add_teller(actor=secretary.user, vote=vote, member=secretary)
    assert list(vote.tellers.values_list("number", flat=True)) == [1]


def test_sheets_read_in_french_with_or_without_accents_and_by_their_first_four_letters(
    make_vote,
):
    import unicodedata

    vote = make_vote()
    sheet = sealing.new_key_sheet(vote.public_id)
    french = sheet.words("french")
    plain = [
        "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))
        for w in french
    ]
    assert sealing.seed_from_words(" ".join(french)) == sheet.seed
    assert sealing.seed_from_words(" ".join(plain).upper()) == sheet.seed
    short = [w[:4] if len(w) > 4 else w for w in sheet.words("english")]
    assert sealing.seed_from_words(", ".join(short)) == sheet.seed
    numbered = " ".join(f"{n}. {w}" for n, w in enumerate(sheet.words("english"), start=1))
    assert sealing.seed_from_words(numbered) == sheet.seed


def test_the_server_keeps_no_sheet_and_no_share_in_the_clear(make_vote, tmp_path):
    vote = make_vote()
    words = [sheet_words(vote, n) for n in (1, 2, 3)]
    seeds = [sealing.seed_from_words(w) for w in words]
    path = tmp_path / "all.json"
    call_command("dumpdata", "--all", "--output", str(path), verbosity=0)
    everything = path.read_text()
    for text, seed in zip(words, seeds, strict=True):
        assert text not in everything and " ".join(text.split()[3:6]) not in everything
        assert seed.hex() not in everything and base64.b64encode(seed).decode() not in everything
    # What is kept per teller: the sheet's public key, and the share sealed to it.
    teller = Teller.objects.get(vote=vote, number=2)
    assert bytes(teller.public_key) == sealing.sheet_public_key(seeds[1], vote.public_id)
    number, share = sealing.open_share(
        seed=seeds[1], public_id=vote.public_id, sealed=bytes(teller.sealed_share)
    )
    assert number == 2 and len(share) == 16 and share.hex() not in everything


def test_a_forged_or_damaged_sealed_ballot_stays_sealed_and_holds_the_count(make_vote, bamako):
    vote, _codes = _closed_with_ballots(make_vote, bamako)
    box = sealing.sealing_box(bytes(vote.public_key))
    forged = sealing.seal_ballot(box, choices=[9], counted_receipt=b"\1" * 32, options=3)
    SealedBallot.objects.create(vote=vote, sealed=forged, lookup="a" * 64)
    SealedBallot.objects.create(vote=vote, sealed=b"\0" * len(forged), lookup="b" * 64)
    assert open_box(vote) == VoteStatus.HELD
    vote.refresh_from_db()
    assert vote.held_problems == [{"code": results.SEALED_UNOPENED, "ballots": 2}]
    assert Ballot.objects.filter(vote=vote).count() == 3


def test_a_vote_opened_before_sealing_casts_and_counts_as_before(make_vote, bamako):
    voters = MemberFactory.create_batch(2, branch=bamako)
    vote = opened_before_sealing(make_vote())
    codes = [casting.cast_ballot(vote=vote, member=v, choices=[2]) for v in voters]
    assert all(len(code) == receipts.LEGACY_LENGTH for code in codes)
    assert not SealedBallot.objects.exists()
    assert set(Ballot.objects.values_list("receipt_hash", flat=True)) == {
        receipts.legacy_hash(code) for code in codes
    }
    assert count_now(vote) == VoteStatus.PUBLISHED  # no tellers needed
    assert vote.result["totals"][1]["votes"] == 2
