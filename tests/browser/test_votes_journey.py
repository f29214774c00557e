"""A branch election, from the ballot on a small phone to the receipt in the published list.

Nafi votes on a 360 px phone with JavaScript off: she ranks the candidates by choosing
1st, 2nd, 3rd, trips over a repeated candidate, reviews, changes her mind, sends, and
copies her receipt code. Her neighbour Awa votes on a phone with JavaScript on, and
every page she sees is checked with axe (WCAG 2.x A/AA; axe needs scripts, and the pages
are the same server-rendered HTML Nafi gets). The secretary sees who voted, never how.
Before the count Nafi's code finds her ballot sealed in the ballot box. The vote then
closes (the Celery clock task, as the beat would at closing time) and the secretary, the
returning officer, opens the box with two tellers typing their key sheets on her screen;
Nafi finds her ballot with the same code, and its fingerprint in the list of every ballot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_light, axe_check, shot, totp_code
from tests.factories import PASSWORD, MemberFactory
from tests.votes.conftest import add_tellers, give_sheets, sheet_words
from union.models import Branch, Member
from votes import receipts, tasks
from votes.models import Ballot, SealedBallot, Vote, VoteKind, VoteStatus
from votes.services import drafting

pytestmark = pytest.mark.browser

CANDIDATES = ["Aminata", "Bintou", "Coumba", "Djeneba"]
TITLE = "Bamako branch committee"


def open_election(secretary: Member, branch: Branch) -> Vote:
    """Two seats, four candidates, open now: as the secretary would set it up."""
    now = timezone.now()
    actor = secretary.user
    vote = drafting.create_vote(
        actor=actor,
        spec=drafting.VoteSpec(
            kind=VoteKind.ELECTION,
            title=TITLE,
            text="Two seats on the branch committee.",
            branch=branch,
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(hours=2),
            seats=2,
            quorum_percent=10,
        ),
    )
    for name in CANDIDATES:
        drafting.add_option(actor=actor, vote=vote, label=name, statement=f"{name} will listen.")
    # Two national tellers beside the secretary, each with a key sheet made and confirmed.
    add_tellers(vote, Branch.objects.get(is_national=True))
    give_sheets(vote)
    drafting.schedule_vote(actor=actor, vote=vote)
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN
    return vote


def sign_in(page: Page, base: str, member: Member, *, second_factor: bool = False) -> None:
    page.goto(f"{base}/account/login/")
    page.get_by_label("Membership number").fill(member.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if second_factor:
        page.get_by_label("6-digit code").fill(totp_code(member))
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("navigation", name="Main").get_by_text("My account")).to_be_visible()


def open_ballot(page: Page, base: str) -> None:
    """From the member's account to the ballot, by the links a member would follow."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    page.get_by_role("link", name="Votes open to me").click()
    expect(page.get_by_role("heading", name="Votes", level=1)).to_be_visible()
    expect(page.get_by_text("You can vote.")).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()


def rank(page: Page, *names: str) -> None:
    places = ["1st choice", "2nd choice", "3rd choice", "Choice number 4"]
    for place, name in zip(places, names, strict=False):
        page.get_by_label(place).select_option(label=name)


def fits_the_screen(page: Page) -> None:
    # Nothing sideways: a 360 px phone shows the whole width (read through the DevTools
    # protocol, which works with the page's own scripts off).
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"


def test_member_ranks_candidates_without_javascript_and_finds_her_receipt_after_the_count(
    live_server: Any,
    new_page: Callable[..., Page],
    bamako: Branch,
    secretary: Member,
) -> None:
    base = live_server.url
    nafi = MemberFactory(branch=bamako, with_login=True, working_name="Nafi K.")
    awa = MemberFactory(branch=bamako, with_login=True, working_name="Awa D.")
    vote = open_election(secretary, bamako)

    # --- Nafi, JavaScript off, 360 px. ---
    phone = new_page(javascript=False)
    assert phone.viewport_size == {"width": 360, "height": 740}
    sign_in(phone, base, nafi)
    open_ballot(phone, base)
    expect(phone.get_by_text("2 people will be elected.")).to_be_visible()
    expect(phone.get_by_text("Coumba will listen.")).to_be_visible()
    shot(phone, "ballot")
    fits_the_screen(phone)
    assert_light(phone)

    # The same candidate twice: refused, with the reason, nothing recorded.
    rank(phone, "Coumba", "Coumba")
    phone.get_by_role("button", name="Next: check my vote").click()
    expect(phone.get_by_role("alert")).to_contain_text(
        "You chose the same candidate twice. Each can have one place."
    )
    shot(phone, "ballot-repeat-refused")
    assert not vote.marks.exists()

    rank(phone, "Coumba", "Aminata", "Djeneba")
    phone.get_by_role("button", name="Next: check my vote").click()
    expect(phone.get_by_role("heading", name="Check your vote")).to_be_visible()
    review = phone.locator("ol.review")
    expect(review.locator("li")).to_have_text(
        ["1st choice Coumba", "2nd choice Aminata", "3rd choice Djeneba"]
    )
    shot(phone, "review")
    fits_the_screen(phone)
    assert_light(phone)
    assert not vote.marks.exists()  # nothing is recorded before the final send

    # She changes her mind: the ballot comes back filled in, she drops her 3rd choice.
    phone.get_by_role("button", name="Change my vote").click()
    expect(phone.get_by_label("1st choice")).to_have_value(
        str(vote.options.get(label="Coumba").number)
    )
    phone.get_by_label("3rd choice").select_option(label="— no choice —")
    shot(phone, "ballot-changed")
    phone.get_by_role("button", name="Next: check my vote").click()
    expect(review.locator("li")).to_have_text(["1st choice Coumba", "2nd choice Aminata"])
    phone.get_by_role("button", name="Send my vote").click()

    expect(phone.get_by_role("heading", name="Your vote is in")).to_be_visible()
    code = phone.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code), code
    shot(phone, "receipt")
    fits_the_screen(phone)
    assert_light(phone)
    assert vote.marks.filter(member=nafi).count() == 1
    assert SealedBallot.objects.filter(vote=vote).count() == 1
    assert not Ballot.objects.filter(vote=vote).exists()

    # Back: the browser sends the form behind the review page again (the pages are
    # no-store). A replay records nothing and says why.
    phone.go_back()
    expect(phone.get_by_role("alert")).to_contain_text("You have already voted in this vote.")
    assert SealedBallot.objects.filter(vote=vote).count() == 1

    # Before the count, her code finds her ballot in the box, sealed: nothing readable.
    phone.goto(f"{base}/votes/{vote.public_id}/ballots/")
    expect(phone.get_by_text("The ballot box is sealed until the count.")).to_be_visible()
    phone.get_by_label("Your receipt code").fill(code)
    phone.get_by_role("button", name="Find my ballot").click()
    expect(phone.locator("#found-ballot")).to_contain_text("Your ballot is in the ballot box")
    expect(phone.locator("main")).not_to_contain_text("Coumba")
    shot(phone, "receipt-found-sealed")
    fits_the_screen(phone)

    # --- Awa, JavaScript on: every voting page passes axe. ---
    other = new_page()
    sign_in(other, base, awa)
    open_ballot(other, base)
    axe_check(other)
    rank(other, "Aminata", "Bintou", "Coumba", "Djeneba")
    other.get_by_role("button", name="Next: check my vote").click()
    expect(other.get_by_role("heading", name="Check your vote")).to_be_visible()
    axe_check(other)
    other.get_by_role("button", name="Send my vote").click()
    expect(other.get_by_role("heading", name="Your vote is in")).to_be_visible()
    axe_check(other)
    shot(other, "receipt-js")

    # --- The secretary sees who voted, never how. ---
    office = new_page()
    sign_in(office, base, secretary, second_factor=True)
    office.goto(f"{base}/office/votes/{vote.public_id}/voters/")
    voters = office.locator("table tbody")
    expect(voters).to_contain_text("Nafi K.")
    expect(voters).to_contain_text("Awa D.")
    for name in CANDIDATES:
        expect(voters).not_to_contain_text(name)
    shot(office, "who-voted")
    axe_check(office)

    # --- Results stay hidden until the count. ---
    phone.goto(f"{base}/votes/{vote.public_id}/results/")
    expect(phone.get_by_role("heading", name="Not found")).to_be_visible()

    # --- Closing time: the beat's clock task closes the vote; the box waits for tellers. ---
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    outcome = tasks.run_vote_clock()
    assert outcome["closed"] == 1
    vote.refresh_from_db()
    assert vote.status == VoteStatus.TELLERS

    # --- The count: two tellers type their sheets on the returning officer's screen. ---
    office.goto(f"{base}/office/votes/{vote.public_id}/")
    office.get_by_role("link", name="Open the ballot box").click()
    expect(office.get_by_role("heading", name="Open the ballot box", level=1)).to_be_visible()
    axe_check(office)
    tellers = list(vote.tellers.select_related("member").order_by("number"))
    # A slip in the second teller's words: refused, named, nothing changes, nothing shown.
    office.get_by_label(re.compile(f"Teller 1, {tellers[0].member.working_name}")).fill(
        sheet_words(vote, 1)
    )
    office.get_by_label(re.compile(f"Teller 2, {tellers[1].member.working_name}")).fill(
        sheet_words(vote, 3)
    )
    office.get_by_role("button", name="Open the ballot box and count").click()
    expect(office.get_by_text("not this teller's sheet")).to_be_visible()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.TELLERS
    office.get_by_label(re.compile("Teller 1,")).fill(sheet_words(vote, 1))
    office.get_by_label(re.compile("Teller 2,")).fill(sheet_words(vote, 2))
    office.get_by_role("button", name="Open the ballot box and count").click()
    expect(office.get_by_text("The ballot box is open and the vote is counted.")).to_be_visible()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.PUBLISHED, vote.held_problems
    assert not SealedBallot.objects.filter(vote=vote).exists()

    # --- Nafi comes back and checks her ballot was counted as cast. ---
    phone.goto(f"{base}/votes/")
    expect(phone.get_by_role("heading", name="Closed")).to_be_visible()
    phone.get_by_role("link", name=TITLE).click()
    expect(phone.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(phone.locator("dl.facts")).to_contain_text("met (10% needed)")
    shot(phone, "results")
    fits_the_screen(phone)
    assert_light(phone)

    phone.get_by_role("link", name=re.compile("Find your ballot with your receipt code")).click()
    expect(phone.get_by_role("heading", name="Ballots", level=1)).to_be_visible()
    phone.get_by_label("Your receipt code").fill(code.lower().replace("-", " "))
    phone.get_by_role("button", name="Find my ballot").click()
    found = phone.locator("#found-ballot")
    key = receipts.receipt_key(code, bytes(vote.receipt_salt))
    fingerprint = receipts.fingerprint(receipts.counted_hash(key))
    expect(found).to_contain_text(f"This ballot was counted for receipt {fingerprint}")
    expect(found.locator("li")).to_have_text(["1st choice Coumba", "2nd choice Aminata"])
    row = phone.locator("table tbody tr", has_text=fingerprint)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("1. Coumba, 2. Aminata")
    expect(phone.locator("table tbody tr")).to_have_count(2)
    shot(phone, "receipt-found")
    fits_the_screen(phone)
    assert_light(phone)

    # A code nobody was given finds nothing.
    phone.get_by_label("Your receipt code").fill("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG")
    phone.get_by_role("button", name="Find my ballot").click()
    expect(phone.get_by_text("No ballot has this receipt.")).to_be_visible()

    # Results and the list of ballots pass axe too.
    other.goto(f"{base}/votes/{vote.public_id}/results/")
    expect(other.locator("details.how summary").first).to_have_text("How it was counted")
    axe_check(other)
    other.get_by_role("link", name=re.compile("Find your ballot")).click()
    # axe must wait for the new page: run during the navigation it checks a half-laid-out one.
    expect(other.get_by_role("heading", name="Ballots", level=1)).to_be_visible()
    other.wait_for_load_state("load")
    axe_check(other)
    other.get_by_label("Your receipt code").fill(code)
    other.get_by_role("button", name="Find my ballot").click()
    expect(other.locator("#found-ballot")).to_be_visible()
    axe_check(other)
