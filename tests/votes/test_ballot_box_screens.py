"""The screens of the sealed ballot box: the short receipt, the list of sealed ballots, a
receipt found before and after the count, lookups limited, the tellers' sheets and the
returning officer's count form. Casting leaves nothing in logs, caches or task queues."""

from __future__ import annotations

import logging
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.conftest import sign_in
from tests.factories import MemberFactory
from tests.votes.conftest import close_now, sheet_words
from votes import receipts
from votes.models import Ballot, SealedBallot, VoteStatus
from votes.services import counting
from votes.views.published import LOOKUPS_PER_HOUR

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _cast(client, vote, choices: str) -> str:
    url = reverse("votes:detail", args=[vote.public_id])
    page = client.post(url, {"step": "cast", "choices": choices}).content.decode()
    match = re.search(r'id="receipt-code">([A-Z0-9-]+)<', page)
    assert match, page[:2000]
    return match.group(1)


def _find(client, vote, code: str) -> str:
    url = reverse("votes:ballots", args=[vote.public_id])
    return client.post(url, {"code": code}).content.decode()


@pytest.fixture(autouse=True)
def _fresh_lookup_counts_and_language():
    cache.clear()
    yield
    translation.deactivate()  # a French page leaves French active in this thread


def test_the_receipt_is_one_short_code_that_finds_the_ballot_sealed_then_counted(
    client, make_vote, member
):
    vote = make_vote(options=["Awa", "Fanta", "Mariam"])
    sign_in(client, member)
    code = _cast(client, vote, "3,1")
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    receipt = client.post(reverse("votes:detail", args=[vote.public_id]))  # a replay
    assert code not in receipt.content.decode()

    # While the vote is open: the sealed ballot, by its fingerprint, and nothing readable.
    page = _find(client, vote, code.lower().replace("-", " "))
    sealed = SealedBallot.objects.get(vote=vote)
    fingerprint = receipts.box_fingerprint(bytes(sealed.sealed))
    assert "Your ballot is in the ballot box, sealed" in page and fingerprint in page
    assert f"<li><code>{fingerprint}</code></li>" in page
    assert "Mariam" not in page

    close_now(vote)
    counting.claim_due_closures()
    officer = Client()
    sign_in(officer, vote.returning_officer)
    box = reverse("votes:office_open_box", args=[vote.public_id])
    done = officer.post(box, {"teller_1": sheet_words(vote, 1), "teller_3": sheet_words(vote, 3)})
    assert done.status_code == 302
    vote.refresh_from_db()
    assert vote.status == VoteStatus.PUBLISHED

    # After the count: the same code shows the ballot as it was counted.
    page = _find(client, vote, code)
    assert 'id="found-ballot"' in page and "This ballot was counted for receipt" in page
    found = page[page.index('id="found-ballot"') :]
    assert re.search(r"Mariam</strong>.*Awa</strong>", found[: found.index("</div>")], re.S)
    counted = Ballot.objects.get(vote=vote)
    assert receipts.fingerprint(counted.receipt_hash) in page


def test_lookups_are_limited_and_malformed_codes_are_explained(client, make_vote, member):
    vote = make_vote()
    sign_in(client, member)
    assert "never use 0, O, 1, I or L" in _find(client, vote, "AB0D-EFGH-JKMN")
    assert "12 letters and digits" in _find(client, vote, "ABCD-EFGH")
    for _ in range(LOOKUPS_PER_HOUR):
        assert "No ballot has this receipt" in _find(client, vote, "ABCD-EFGH-JKMN")
    assert "Too many receipts looked up" in _find(client, vote, "ABCD-EFGH-JKMN")


def test_a_teller_s_sheet_screen_is_theirs_alone_and_an_officer_passes_the_second_factor(
    client, make_vote, member
):
    from datetime import timedelta

    from django.utils import timezone

    vote = make_vote(opens_at=timezone.now() + timedelta(days=1))
    teller = vote.tellers.get(number=2)
    url = reverse("votes:key_sheet", args=[vote.public_id])
    sign_in(client, member)  # not a teller
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "make"}).status_code == 404

    # An officer who is a teller passes the second factor before seeing anything.
    officer = Client()
    officer.force_login(vote.tellers.get(number=1).member.user)
    assert officer.get(url)["Location"].startswith(reverse("union:two_factor"))

    own = Client()
    sign_in(own, teller.member)
    listing = own.get(reverse("votes:list")).content.decode()
    assert "Your key sheets" in listing and vote.title in listing
    page = own.get(url).content.decode()
    assert "Your key sheet is made and confirmed." in page  # make_vote confirmed it
    assert 'value="make"' not in page


def test_the_count_form_names_the_wrong_sheet_and_shows_nobody_s_words_again(
    client, make_vote, bamako, secretary
):
    voter = MemberFactory(branch=bamako, with_login=True)
    vote = make_vote()
    voter_client = Client()
    sign_in(voter_client, voter)
    _cast(voter_client, vote, "2")
    close_now(vote)
    counting.claim_due_closures()
    sign_in(client, secretary)
    detail = client.get(reverse("votes:office_detail", args=[vote.public_id])).content.decode()
    assert "Open the ballot box" in detail
    box = reverse("votes:office_open_box", args=[vote.public_id])
    right = sheet_words(vote, 1)
    page = client.post(box, {"teller_1": right, "teller_2": sheet_words(vote, 3)})
    body = page.content.decode()
    assert page.status_code == 200
    assert "not this teller&#x27;s sheet" in body
    assert right.split()[0] not in body.split("<form")[1]  # the typed words are not shown
    vote.refresh_from_db()
    assert vote.status == VoteStatus.TELLERS
    assert SealedBallot.objects.filter(vote=vote).count() == 1
    done = client.post(box, {"teller_1": right, "teller_2": sheet_words(vote, 2)}, follow=True)
    assert "The ballot box is open and the vote is counted." in done.content.decode()


def test_casting_leaves_no_code_or_choice_in_logs_caches_or_task_queues(
    client, make_vote, member, caplog, django_capture_on_commit_callbacks
):
    vote = make_vote(options=["Awa", "Fanta", "Mariam"])
    sign_in(client, member)
    cache.clear()
    with (
        caplog.at_level(logging.DEBUG),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        code = _cast(client, vote, "3")
    assert not callbacks  # nothing queued, nothing sent
    text = caplog.text
    key = receipts.receipt_key(code, bytes(vote.receipt_salt))
    for secret in (code, receipts.normalise(code), receipts.counted_hash(key)):
        assert secret not in text
    assert "Mariam" not in text and '"choices"' not in text
    # The only cache entries a cast may leave are sessions: none holds the code.
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():
        assert receipts.normalise(code) not in str(session.get_decoded())


def test_the_secrecy_page_reads_in_english_and_french(french):
    assert "Who holds the key" in Client().get(reverse("votes:secrecy")).content.decode()
    page = french.get(reverse("votes:secrecy")).content.decode()
    assert "Qui détient la clé" in page
