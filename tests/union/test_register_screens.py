"""The office screens of the register: finding members, registering one during outreach,
changing a status, handing out and ending roles."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import MemberFactory
from union.models import (
    AuditAction,
    AuditEvent,
    Member,
    MemberStatus,
    RegistrationSource,
    Role,
    RoleAssignment,
)

NEXT = re.compile(r'href="\?([^"]*cursor=[^"]+)" rel="next"')
PREV = re.compile(r'href="\?([^"]*cursor=[^"]+)" rel="prev"')


ROW = re.compile(
    r'<td\s*><a href="/office/members/[0-9a-f-]+/">([^<]*)</a></td>\s*'
    r'<td\s*><a href="/office/members/[0-9a-f-]+/">([^<]*)</a></td>'
)


def _names(response) -> list[str]:
    """Working names in the register table, top to bottom."""
    assert response.status_code == 200
    return [html.unescape(name) for _number, name in ROW.findall(response.content.decode())]


@pytest.fixture
def register(bamako, segou) -> dict[str, Member]:
    return {
        "kadi": MemberFactory(
            branch=bamako, working_name="Kadi Traore", number="BKO-000007", phone="+22376123456"
        ),
        "mariam": MemberFactory(
            branch=bamako, working_name="Mariam Coulibaly", number="BKO-000003"
        ),
        "awa": MemberFactory(
            branch=bamako,
            working_name="Awa Sangare",
            number="BKO-000005",
            status=MemberStatus.SUSPENDED,
        ),
        "salif": MemberFactory(branch=segou, working_name="Salimata Keita", number="SEG-000001"),
    }


# --- Finding members -------------------------------------------------------------------


def test_the_register_table_lists_members_with_links(client, login, secretary, register):
    login(client, secretary)
    response = client.get(reverse("union:members"))
    names = _names(response)
    assert {"Kadi Traore", "Mariam Coulibaly", "Awa Sangare"} <= set(names)
    assert "Salimata Keita" not in names  # Ségou is not the Bamako secretary's


def test_filter_by_branch(client, login, national_coordinator, register, segou):
    login(client, national_coordinator)
    everyone = _names(client.get(reverse("union:members")))
    assert {"Kadi Traore", "Salimata Keita"} <= set(everyone)
    only_segou = _names(client.get(reverse("union:members"), {"branch": segou.pk}))
    assert only_segou == ["Salimata Keita"]


def test_a_secretary_cannot_filter_their_way_into_another_branch(
    client, login, secretary, register, segou
):
    login(client, secretary)
    response = client.get(reverse("union:members"), {"branch": segou.pk})
    assert response.status_code == 200
    assert "Salimata Keita" not in _names(response)


def test_filter_by_status(client, login, secretary, register):
    login(client, secretary)
    response = client.get(reverse("union:members"), {"status": MemberStatus.SUSPENDED})
    assert _names(response) == ["Awa Sangare"]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("kadi", "Kadi Traore"),
        ("COULIBALY", "Mariam Coulibaly"),
        ("BKO-000007", "Kadi Traore"),
        ("bko-000003", "Mariam Coulibaly"),
        ("76 12 34 56", "Kadi Traore"),
        ("+223 76 12 34 56", "Kadi Traore"),
        ("76123456", "Kadi Traore"),
    ],
)
def test_search_by_name_number_or_phone(client, login, secretary, register, typed, found):
    login(client, secretary)
    assert _names(client.get(reverse("union:members"), {"q": typed})) == [found]


def test_search_for_nobody_says_so(client, login, secretary, register):
    login(client, secretary)
    response = client.get(reverse("union:members"), {"q": "Nobody Here"})
    assert _names(response) == []
    assert "No members match." in response.content.decode()


def test_search_by_phone_does_not_reach_into_another_branch(
    client, login, other_secretary, register
):
    login(client, other_secretary)
    assert _names(client.get(reverse("union:members"), {"q": "76 12 34 56"})) == []


def test_sort_by_name_and_by_number(client, login, secretary, register):
    login(client, secretary)
    url = reverse("union:members")
    by_name = _names(client.get(url, {"sort": "working_name"}))
    assert by_name == sorted(by_name)
    assert _names(client.get(url, {"sort": "-working_name"})) == sorted(by_name, reverse=True)
    # Numbers BKO-000003 (Mariam), BKO-000005 (Awa), BKO-000007 (Kadi), then the officers'.
    by_number = _names(client.get(url, {"sort": "number"}))
    assert by_number[:3] == ["Mariam Coulibaly", "Awa Sangare", "Kadi Traore"]


@pytest.fixture
def big_branch(bamako) -> list[str]:
    """120 members (more than two pages of 50), named so that name order is obvious."""
    members = MemberFactory.create_batch(120, branch=bamako)
    return sorted(m.working_name for m in members)


def _follow(client, query: str, url_name: str = "union:members"):
    """Follow a pager link (its query string, as found in the page)."""
    return client.get(reverse(url_name) + "?" + html.unescape(query))


def test_pages_follow_each_other_without_gaps_or_repeats(client, login, secretary, big_branch):
    login(client, secretary)
    expected = sorted([*big_branch, secretary.working_name])
    page1 = client.get(reverse("union:members"), {"sort": "working_name"})
    page2 = _follow(client, NEXT.search(page1.content.decode()).group(1))  # type: ignore[union-attr]
    page3 = _follow(client, NEXT.search(page2.content.decode()).group(1))  # type: ignore[union-attr]
    seen = _names(page1) + _names(page2) + _names(page3)
    assert [len(_names(p)) for p in (page1, page2, page3)] == [50, 50, 21]
    assert seen == expected
    assert not NEXT.search(page3.content.decode())
    assert not PREV.search(page1.content.decode())

    back = _follow(client, PREV.search(page3.content.decode()).group(1))  # type: ignore[union-attr]
    assert _names(back) == _names(page2)


def test_pages_cost_the_same_few_queries_and_never_count(client, login, secretary, big_branch):
    login(client, secretary)
    client.get(reverse("union:members"))  # warm up the session and caches
    with CaptureQueriesContext(connection) as first:
        page1 = client.get(reverse("union:members"))
    page2 = _follow(client, NEXT.search(page1.content.decode()).group(1))  # type: ignore[union-attr]
    with CaptureQueriesContext(connection) as third:
        _follow(client, NEXT.search(page2.content.decode()).group(1))  # type: ignore[union-attr]
    for captured in (first, third):
        sql = " ".join(q["sql"] for q in captured.captured_queries).upper()
        assert "COUNT(" not in sql
        assert " OFFSET " not in sql
    assert len(first.captured_queries) == len(third.captured_queries) <= 10


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "eyJub3QiOiAianNvbiBsaXN0In0",  # {"not": "json list"}
        base64.urlsafe_b64encode(b'["working_name","next",null,1]').decode(),
        base64.urlsafe_b64encode(b'["working_name","next",{"$gt":""},1]').decode(),
        base64.urlsafe_b64encode(b'["working_name","sideways","Awa",1]').decode(),
        base64.urlsafe_b64encode(b'["number","next","BKO-000001","1"]').decode(),
        base64.urlsafe_b64encode(json.dumps(["working_name", "next", "x" * 5000, 1]).encode())
        .decode()
        .rstrip("="),
    ],
)
def test_a_broken_cursor_shows_the_first_page(client, login, secretary, big_branch, cursor):
    login(client, secretary)
    response = client.get(reverse("union:members"), {"cursor": cursor})
    assert response.status_code == 200
    first = _names(client.get(reverse("union:members")))
    assert _names(response) in (first, [])


# --- Registering someone during outreach -----------------------------------------------


def test_a_crisis_responder_registers_someone_met_on_outreach(
    client, login, crisis_responder, bamako
):
    login(client, crisis_responder)
    response = client.post(
        reverse("union:register_member"),
        {
            "working_name": "Rokia",
            "branch": bamako.pk,
            "contact_preference": "call",
            "phone": "66 11 22 33",
            "preferred_language": "fr",
            "notes": "Met at the bus station; call after 18h.",
        },
        follow=True,
    )
    assert "Registered. The application waits for the secretary." in response.content.decode()
    rokia = Member.objects.get(working_name="Rokia")
    assert rokia.status == MemberStatus.APPLICANT
    assert rokia.source == RegistrationSource.ASSISTED
    assert rokia.phone == "+22366112233"
    assert rokia.notes == "Met at the bus station; call after 18h."
    assert AuditEvent.objects.filter(
        action=AuditAction.MEMBER_REGISTER, actor=crisis_responder.user
    ).exists()


def test_registration_offers_only_the_officers_own_branches(client, login, crisis_responder, segou):
    login(client, crisis_responder)
    page = client.get(reverse("union:register_member")).content.decode()
    assert "Bamako" in page
    assert "Ségou" not in page
    response = client.post(
        reverse("union:register_member"),
        {
            "working_name": "Elsewhere",
            "branch": segou.pk,
            "contact_preference": "none",
            "preferred_language": "fr",
        },
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Member.objects.filter(working_name="Elsewhere").exists()


def test_registration_needs_a_phone_for_sms(client, login, secretary, bamako):
    login(client, secretary)
    response = client.post(
        reverse("union:register_member"),
        {
            "working_name": "No Phone",
            "branch": bamako.pk,
            "contact_preference": "sms",
            "preferred_language": "fr",
        },
    )
    assert "Give a phone number, or choose another way to reach you." in response.content.decode()
    assert not Member.objects.filter(working_name="No Phone").exists()


# --- Status changes --------------------------------------------------------------------


def _change_status(client, member: Member, to: str, reason: str = ""):
    return client.post(
        reverse("union:member_status", args=[member.public_id]),
        {"status": to, "reason": reason},
        follow=True,
    )


def test_a_secretary_suspends_and_reinstates_a_member(client, login, secretary, register):
    kadi = register["kadi"]
    login(client, secretary)
    response = _change_status(client, kadi, MemberStatus.SUSPENDED, "Asked for a break")
    assert "Status changed." in response.content.decode()
    kadi.refresh_from_db()
    assert kadi.status == MemberStatus.SUSPENDED

    _change_status(client, kadi, MemberStatus.ACTIVE)
    kadi.refresh_from_db()
    assert kadi.status == MemberStatus.ACTIVE
    history = [(h.from_status, h.to_status) for h in kadi.status_history.all()]
    assert history == [("active", "suspended"), ("suspended", "active")]


def test_the_status_form_offers_only_allowed_moves(client, login, secretary, register):
    login(client, secretary)
    page = client.get(reverse("union:member_detail", args=[register["awa"].public_id]))
    options = re.findall(r'<option value="([a-z]+)"', page.content.decode())
    assert set(options) >= {"active", "resigned", "deceased"}
    assert "lapsed" not in options  # suspended -> lapsed is not a move


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (MemberStatus.RESIGNED, MemberStatus.ACTIVE),
        (MemberStatus.DECEASED, MemberStatus.ACTIVE),
        (MemberStatus.SUSPENDED, MemberStatus.LAPSED),
        (MemberStatus.ACTIVE, MemberStatus.APPLICANT),
        (MemberStatus.ACTIVE, "emperor"),
    ],
)
def test_a_forbidden_move_shows_an_error_and_changes_nothing(
    client, login, secretary, bamako, start, to
):
    target = MemberFactory(branch=bamako, status=start)
    login(client, secretary)
    response = _change_status(client, target, to)
    assert "Choose one of the statuses offered." in response.content.decode()
    target.refresh_from_db()
    assert target.status == start
    assert not target.status_history.exists()


def test_an_applicant_cannot_be_activated_around_the_queue(client, login, secretary, applicant):
    login(client, secretary)
    response = _change_status(client, applicant, MemberStatus.ACTIVE)
    assert "Use the applicant queue to approve or reject." in response.content.decode()
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.APPLICANT
    assert applicant.number is None


# --- Roles -----------------------------------------------------------------------------


def _give_role(client, member: Member, role: str, branch_id: int, **extra):
    return client.post(
        reverse("union:roles"),
        {
            "member_number": member.number,
            "role": role,
            "branch": branch_id,
            "starts_on": timezone.localdate().isoformat(),
            **extra,
        },
        follow=True,
    )


def test_a_secretary_gives_a_role_that_works_at_once(client, login, secretary, register):
    kadi = register["kadi"]
    login(client, secretary)
    response = _give_role(client, kadi, Role.TREASURER, kadi.branch_id)
    assert "Role assigned." in response.content.decode()
    assignment = RoleAssignment.objects.get(member=kadi)
    assert (assignment.role, assignment.branch_id, assignment.ends_on) == (
        Role.TREASURER,
        kadi.branch_id,
        None,
    )


def test_an_ended_role_grants_nothing_from_the_next_request(client, login, secretary, treasurer):
    treasurer_client = login(type(client)(), treasurer)
    assert treasurer_client.get(reverse("union:members")).status_code == 200

    login(client, secretary)
    assignment = RoleAssignment.objects.get(member=treasurer)
    response = client.post(reverse("union:role_end", args=[assignment.pk]), follow=True)
    assert "Role ended." in response.content.decode()

    assert treasurer_client.get(reverse("union:members")).status_code == 403
    # Ending it again is harmless.
    client.post(reverse("union:role_end", args=[assignment.pk]))
    assignment.refresh_from_db()
    assert assignment.ends_on == timezone.localdate() - timedelta(days=1)


def test_a_secretary_cannot_give_national_roles(client, login, secretary, register, national):
    kadi = register["kadi"]
    login(client, secretary)
    response = _give_role(client, kadi, Role.NATIONAL_COORDINATOR, kadi.branch_id)
    assert "You cannot give this role in this branch." in response.content.decode()
    response = _give_role(client, kadi, Role.NATIONAL_BOARD, national.pk)
    assert "Select a valid choice" in response.content.decode()
    assert not RoleAssignment.objects.filter(member=kadi).exists()


def test_the_national_coordinator_gives_national_roles(
    client, login, national_coordinator, register, national
):
    kadi = register["kadi"]
    login(client, national_coordinator)
    _give_role(client, kadi, Role.NATIONAL_BOARD, national.pk)
    assert RoleAssignment.objects.filter(member=kadi, role=Role.NATIONAL_BOARD).exists()


def test_a_secretary_cannot_give_roles_to_another_branchs_member(
    client, login, other_secretary, register
):
    login(client, other_secretary)
    kadi = register["kadi"]
    response = _give_role(client, kadi, Role.TREASURER, other_secretary.branch_id)
    assert "No member with this number in your branches." in response.content.decode()
    assert not RoleAssignment.objects.filter(member=kadi).exists()


def test_a_role_cannot_end_before_it_starts(client, login, secretary, register):
    kadi = register["kadi"]
    login(client, secretary)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = _give_role(client, kadi, Role.TREASURER, kadi.branch_id, ends_on=yesterday)
    assert "The end date is before the start date." in response.content.decode()
    assert not RoleAssignment.objects.filter(member=kadi).exists()


# --- The applicant queue ---------------------------------------------------------------


def test_a_long_applicant_queue_pages_oldest_first(client, login, secretary, bamako):
    start = timezone.now() - timedelta(days=30)
    for i in range(55):
        MemberFactory(
            branch=bamako,
            applicant=True,
            working_name=f"Queue {i:02d}",
            applied_at=start + timedelta(hours=i),
        )
    login(client, secretary)
    page1 = client.get(reverse("union:applicants"))
    assert page1.status_code == 200
    body1 = page1.content.decode()
    assert "Queue 00" in body1
    assert "Queue 49" in body1
    assert "Queue 50" not in body1
    page2 = _follow(client, NEXT.search(body1).group(1), "union:applicants")  # type: ignore[union-attr]
    body2 = page2.content.decode()
    assert [f"Queue {i:02d}" in body2 for i in (49, 50, 54)] == [False, True, True]


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-45T99:00:00", 12, "2026-11-22T10:00:00+00:00"]
)
def test_a_broken_queue_cursor_shows_the_first_page(client, login, secretary, applicant, value):
    login(client, secretary)
    cursor = base64.urlsafe_b64encode(json.dumps(["applied_at", "next", value, 1]).encode())
    response = client.get(reverse("union:applicants"), {"cursor": cursor.decode()})
    assert response.status_code == 200
