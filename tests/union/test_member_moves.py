"""A member moves town: the receiving branch's secretary takes her in.

Personas (tests/conftest.py): `secretary` is Bamako's, `other_secretary` Ségou's. Here
Ségou's secretary takes Bamako members in; Bamako's officers are told, without a name.
Dues are not set up in these tests (no plan, no ledger): the account is "settled".
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from tests.conftest import _officer
from tests.factories import MemberFactory
from union.models import (
    AuditAction,
    AuditEvent,
    Member,
    MemberMove,
    MemberStatus,
    MemberStatusChange,
    Notification,
    Role,
    RoleAssignment,
)
from union.services import members as member_services
from union.services import moves

pytestmark = pytest.mark.django_db


@pytest.fixture
def mover(bamako) -> Member:
    person = MemberFactory(branch=bamako, working_name="Mariam K.", with_login=True)
    person.contact_preference = "sms"
    person.consent_sms = True
    person.phone = "+22376000001"
    person.save()
    return person


def _codes(exc: ValidationError) -> set[str | None]:
    errors = (
        [e for es in exc.error_dict.values() for e in es]
        if hasattr(exc, "error_dict")
        else exc.error_list
    )
    return {e.code for e in errors}


def _move(officer, mover, to_branch, **kwargs) -> MemberMove:
    return moves.move_member(
        actor=officer.user, member=mover, from_branch=mover.branch, to_branch=to_branch, **kwargs
    )


def test_a_member_taken_in_keeps_her_number_login_history_and_audit(
    other_secretary, mover, bamako, segou
):
    member_services.change_member_status(
        actor=None, member=mover, to=MemberStatus.LAPSED, reason="dues"
    )
    number, user_id = mover.number, mover.user_id
    AuditEvent.objects.create(action="member.view", target=f"member:{mover.public_id}")

    move = _move(other_secretary, mover, segou)

    mover.refresh_from_db()
    assert mover.branch == segou
    assert (mover.number, mover.user_id) == (number, user_id)
    assert (move.from_branch, move.to_branch, move.number, move.seq) == (bamako, segou, number, 1)
    history = list(MemberStatusChange.objects.filter(member=mover).values_list("to_status"))
    assert history[0] == (MemberStatus.LAPSED,)  # her history follows her
    trail = AuditEvent.objects.filter(target=f"member:{mover.public_id}")
    assert set(trail.filter(action=AuditAction.MEMBER_MOVE).values_list("branch", flat=True)) == {
        bamako.pk,
        segou.pk,
    }
    assert trail.filter(action="member.view").exists()


def test_the_sending_branch_is_told_without_her_name_number_or_new_town(
    other_secretary, secretary, treasurer, mover, segou
):
    secretary.contact_preference = treasurer.contact_preference = "email"
    secretary.email, treasurer.email = "sec@example.org", "tre@example.org"
    secretary.save()
    treasurer.save()

    _move(other_secretary, mover, segou)

    told = Notification.objects.filter(kind="member_moved_out")
    assert set(told.values_list("member_id", flat=True)) == {secretary.pk, treasurer.pk}
    for note in told:
        text = f"{note.subject} {note.body}"
        for secret in (mover.working_name, mover.number, "Ségou", "Segou", "SEG"):
            assert secret not in text
    own = Notification.objects.get(kind="member_moved", member=mover)
    assert "Ségou" not in own.body and mover.number not in own.body


def test_her_roles_in_the_branch_she_leaves_end(other_secretary, mover, bamako, segou):
    role = RoleAssignment.objects.create(
        member=mover,
        role=Role.TREASURER,
        branch=bamako,
        starts_on=timezone.localdate() - timedelta(days=30),
    )
    _move(other_secretary, mover, segou)
    role.refresh_from_db()
    assert role.ends_on == timezone.localdate() - timedelta(days=1)
    assert not RoleAssignment.objects.current().filter(member=mover).exists()


@pytest.mark.parametrize(
    ("case", "code"),
    [("same_branch", "same_branch"), ("national", "national"), ("resigned", "status")],
)
def test_bad_moves_are_refused_and_change_nothing(
    case, code, other_secretary, mover, segou, national
):
    target = segou
    if case == "same_branch":
        mover = MemberFactory(branch=segou)
    elif case == "national":
        target = national
        RoleAssignment.objects.filter(member=other_secretary).update(branch=national)
    else:
        member_services.change_member_status(actor=None, member=mover, to=MemberStatus.RESIGNED)
    branch_before = mover.branch_id
    with pytest.raises(ValidationError) as caught:
        _move(other_secretary, mover, target)
    assert code in _codes(caught.value)
    mover.refresh_from_db()
    assert mover.branch_id == branch_before
    assert not MemberMove.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_MOVE).exists()


def test_only_the_receiving_branch_secretary_may_take_her_in(
    secretary, treasurer, other_secretary, mover, segou, bamako
):
    other = MemberFactory(branch=segou)
    for officer, member, to in ((treasurer, mover, segou), (secretary, other, bamako)):
        # Bamako's treasurer has no such right; Bamako's secretary may take Ségou's member
        # into Bamako (her branch), but not send Bamako's member into Ségou.
        if officer is secretary:
            _move(officer, member, to)
            continue
        with pytest.raises(PermissionDenied):
            _move(officer, member, to)
    with pytest.raises(PermissionDenied):
        _move(secretary, mover, segou)
    mover.refresh_from_db()
    assert mover.branch == bamako


def test_a_stale_screen_does_not_move_her_twice(other_secretary, mover, bamako, segou):
    _move(other_secretary, mover, segou)
    with pytest.raises(ValidationError):
        moves.move_member(
            actor=other_secretary.user, member=mover, from_branch=bamako, to_branch=segou
        )
    assert MemberMove.objects.count() == 1


def test_the_database_refuses_two_moves_with_the_same_place_in_her_history(
    other_secretary, mover, bamako, segou
):
    move = _move(other_secretary, mover, segou)
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberMove.objects.create(
            member=mover, seq=move.seq, from_branch=segou, to_branch=bamako, number=mover.number
        )
    with pytest.raises(TypeError):
        move.save()


@pytest.mark.django_db(transaction=True)
@pytest.mark.embedded
def test_two_branches_taking_her_in_at_the_same_moment_make_one_move(
    other_secretary, johannesburg, mover, bamako, segou
):
    jhb_secretary = _officer(johannesburg, Role.SECRETARY)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take_in(officer, branch) -> None:
        try:
            barrier.wait(timeout=10)
            moves.move_member(
                actor=officer.user, member=mover, from_branch=bamako, to_branch=branch
            )
            outcomes.append("moved")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=take_in, args=(other_secretary, segou)),
        threading.Thread(target=take_in, args=(jhb_secretary, johannesburg)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["moved", "refused"]
    move = MemberMove.objects.get()
    mover.refresh_from_db()
    assert mover.branch_id == move.to_branch_id


# --- the screens -----------------------------------------------------------------------


def test_the_secretary_takes_her_in_on_two_screens(client, login, other_secretary, mover, segou):
    login(client, other_secretary)
    url = reverse("union:move_in")
    assert client.get(url).status_code == 200
    step1 = client.post(url, {"number": mover.number.lower(), "to_branch": segou.pk})
    assert step1.status_code == 200
    assert "Mariam K." in step1.text and "Bamako" in step1.text
    assert not MemberMove.objects.exists()
    done = client.post(
        url,
        {
            "stage": "confirm",
            "number": mover.number,
            "to_branch": segou.pk,
            "from_branch": "BKO",
            "dues_closing": "settled",
        },
        follow=True,
    )
    assert "is now a member of Ségou" in done.text
    mover.refresh_from_db()
    assert mover.branch == segou
    detail = client.get(reverse("union:member_detail", args=[mover.public_id]))
    assert "Branches" in detail.text and "Bamako" in detail.text
    listing = client.get(reverse("union:moves"))
    assert mover.number in listing.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"number": "BKO-999999"}, "No member has the number BKO-999999."),
        ({"number": "", "to_branch": ""}, "This field is required."),
    ],
)
def test_bad_input_on_the_screen_is_answered_and_changes_nothing(
    client, login, other_secretary, mover, segou, data, message
):
    login(client, other_secretary)
    response = client.post(reverse("union:move_in"), {"to_branch": segou.pk, **data})
    assert response.status_code == 400
    assert message in response.text
    assert not MemberMove.objects.exists()


def test_the_screen_speaks_french(client, login, french, other_secretary, mover, bamako):
    login(client, other_secretary)
    response = client.post(reverse("union:move_in"), {"number": "BKO-999999"})
    assert response.status_code == 400
    assert "Aucun membre" in response.text and "BKO-999999" in response.text


def test_the_list_of_moves_costs_the_same_for_one_move_or_many(
    client, login, other_secretary, bamako, segou
):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    login(client, other_secretary)
    url = reverse("union:moves")

    def queries() -> int:
        with CaptureQueriesContext(db) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    _move(other_secretary, MemberFactory(branch=bamako), segou)
    queries()  # the first request of a session also loads what later ones keep
    one = queries()
    for _ in range(5):
        _move(other_secretary, MemberFactory(branch=bamako), segou)
    assert queries() == one


def test_her_own_copy_of_her_data_shows_the_move(client, login, other_secretary, mover, segou):
    _move(other_secretary, mover, segou)
    login(client, mover)
    response = client.get(reverse("union:my_data"))
    assert "Your branches over time" in response.text
    assert "Bamako" in response.text and "Ségou" in response.text
