"""Joining the union: apply, wait in the queue, get approved with a number, set a password
with the one-time code, sign in and see one's own record. And the ways it can go wrong:
rejection, a mistyped code, an old code, a code used twice, two secretaries at once."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import MemberFactory
from union.models import Member, MemberStatus, SetPasswordCode
from union.services.members import CODE_MAX_FAILURES, approve_applicant

NEW_PASSWORD = "mangoes-at-the-market-2026"
CODE_ON_SLIP = re.compile(r'<strong class="code">([A-Z0-9]+)</strong>')


def _approve_with_login(client, login, secretary, member: Member) -> str:
    """The secretary approves the applicant on screen; returns the code shown on the slip."""
    login(client, secretary)
    response = client.post(
        reverse("union:applicant", args=[member.public_id]), {"approve": "1", "create_login": "on"}
    )
    assert response.status_code == 200
    match = CODE_ON_SLIP.search(response.content.decode())
    assert match, "the login slip shows the code"
    client.logout()
    return match.group(1)


def _set_password(client, *, number: str, code: str, password: str = NEW_PASSWORD):
    return client.post(
        reverse("union:set_password"),
        {"username": number, "code": code, "new_password1": password, "new_password2": password},
    )


def test_applicant_joins_is_approved_sets_password_and_sees_own_record(
    client, login, bamako, secretary
):
    response = client.post(
        reverse("union:join"),
        {
            "working_name": "Nana Bintou",
            "branch": bamako.pk,
            "contact_preference": "sms",
            "phone": "76 12 34 56",
            "consent_sms": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("union:join_thanks")
    applicant = Member.objects.get(working_name="Nana Bintou")
    assert applicant.status == MemberStatus.APPLICANT
    assert applicant.number is None
    assert applicant.phone == "+22376123456"  # the local number, read as a Malian one

    login(client, secretary)
    queue = client.get(reverse("union:applicants"))
    assert "Nana Bintou" in queue.content.decode()

    slip = client.post(
        reverse("union:applicant", args=[applicant.public_id]),
        {"approve": "1", "create_login": "on"},
    )
    page = slip.content.decode()
    assert slip.status_code == 200
    assert "BKO-000001" in page
    code = CODE_ON_SLIP.search(page).group(1)  # type: ignore[union-attr]
    # The code is shown once: coming back to the application shows the member, not the code.
    again = client.get(reverse("union:applicant", args=[applicant.public_id]), follow=True)
    assert code not in again.content.decode()
    assert not SetPasswordCode.objects.filter(code_hash=code).exists()  # only a hash is kept
    client.logout()

    response = _set_password(client, number="bko-000001", code=code.lower())
    assert response.status_code == 302
    assert response["Location"] == reverse("union:login")

    response = client.post(
        reverse("union:login"), {"username": "BKO-000001", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert not response["Location"].startswith(reverse("union:two_factor"))  # no role, no 2FA
    profile = client.get(reverse("union:profile"))
    assert profile.status_code == 200
    body = profile.content.decode()
    assert "Nana Bintou" in body
    assert "BKO-000001" in body
    assert "+22376123456" in body  # their own contact details, to check and correct


def test_rejection_needs_a_reason(client, login, secretary, applicant):
    login(client, secretary)
    response = client.post(
        reverse("union:applicant", args=[applicant.public_id]), {"reject": "1", "reason": "  "}
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.APPLICANT


def test_rejection_with_a_reason_is_recorded_in_the_history(client, login, secretary, applicant):
    login(client, secretary)
    response = client.post(
        reverse("union:applicant", args=[applicant.public_id]),
        {"reject": "1", "reason": "Not from this town; sent to Ségou."},
    )
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.REJECTED
    assert applicant.number is None
    last = applicant.status_history.last()
    assert last is not None
    assert (last.from_status, last.to_status) == (MemberStatus.APPLICANT, MemberStatus.REJECTED)
    assert last.reason == "Not from this town; sent to Ségou."
    assert last.changed_by == secretary.user
    # And the rejected person has left the queue.
    queue = client.get(reverse("union:applicants")).content.decode()
    assert applicant.working_name not in queue


def test_membership_numbers_count_per_branch(bamako, segou, national_coordinator):
    actor = national_coordinator.user
    numbers = [
        approve_applicant(
            actor=actor, member=MemberFactory(branch=branch, applicant=True), create_login=False
        ).member.number
        for branch in (bamako, segou, bamako, segou, bamako)
    ]
    assert numbers == ["BKO-000001", "SEG-000001", "BKO-000002", "SEG-000002", "BKO-000003"]


def test_approving_twice_gives_one_number(secretary, applicant):
    first = approve_applicant(actor=secretary.user, member=applicant, create_login=False)
    with pytest.raises(ValidationError, match="not waiting for approval"):
        approve_applicant(actor=secretary.user, member=applicant, create_login=False)
    applicant.refresh_from_db()
    assert applicant.number == first.member.number == "BKO-000001"


def _in_parallel(*jobs):
    """Run each job in its own thread (and database connection), released together."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait(timeout=10)
            results[i] = job()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_the_same_time_give_two_different_numbers(bamako, secretary):
    first, second = (MemberFactory(branch=bamako, applicant=True) for _ in range(2))
    User = get_user_model()

    def approve(member):
        def job():
            actor = User.objects.get(pk=secretary.user.pk)
            return approve_applicant(actor=actor, member=member, create_login=True).member.number

        return job

    results = _in_parallel(approve(first), approve(second))
    assert sorted(results) == ["BKO-000001", "BKO-000002"]  # type: ignore[type-var]
    bamako.refresh_from_db()
    assert bamako.next_member_seq == 3


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_one_applicant_approved_by_two_secretaries_at_once_gets_one_number(
    bamako, secretary, national_coordinator, applicant
):
    def approve(officer):
        def job():
            actor = get_user_model().objects.get(pk=officer.user.pk)
            return approve_applicant(actor=actor, member=applicant, create_login=False)

        return job

    results = _in_parallel(approve(secretary), approve(national_coordinator))
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    applicant.refresh_from_db()
    assert applicant.number == "BKO-000001"
    assert applicant.status_history.filter(to_status=MemberStatus.ACTIVE).count() == 1


@pytest.fixture
def approved(client, login, secretary, applicant) -> tuple[str, str]:
    """(membership number, set-password code) of a just-approved member."""
    code = _approve_with_login(client, login, secretary, applicant)
    applicant.refresh_from_db()
    return str(applicant.number), code


def _can_sign_in(number: str) -> bool:
    return get_user_model().objects.get(username=number).has_usable_password()


def test_a_mistyped_code_can_be_retried(client, approved):
    number, code = approved
    for _ in range(CODE_MAX_FAILURES - 1):
        response = _set_password(client, number=number, code="WRONGCODE9")
        assert "do not match" in response.content.decode()
    assert _set_password(client, number=number, code=code).status_code == 302
    assert _can_sign_in(number)


def test_the_code_stops_working_after_five_wrong_tries(client, approved):
    number, code = approved
    for _ in range(CODE_MAX_FAILURES):
        response = _set_password(client, number=number, code="WRONGCODE9")
        assert response.status_code == 200
        assert "do not match" in response.content.decode()
    assert SetPasswordCode.objects.get(user__username=number).failed_attempts == CODE_MAX_FAILURES

    response = _set_password(client, number=number, code=code)
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert not _can_sign_in(number)


def test_an_expired_code_fails(client, approved, settings):
    number, code = approved
    later = timezone.now() + timedelta(hours=settings.SET_PASSWORD_CODE_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        response = _set_password(client, number=number, code=code)
    assert response.status_code == 200
    assert "ran out" in response.content.decode()
    assert not _can_sign_in(number)


def test_the_code_works_once(client, approved):
    number, code = approved
    assert _set_password(client, number=number, code=code).status_code == 302
    response = _set_password(client, number=number, code=code, password="someone-else-2026!")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    # The first password still works; the second attempt changed nothing.
    user = get_user_model().objects.get(username=number)
    assert user.check_password(NEW_PASSWORD)


def test_a_new_code_replaces_the_old_one(client, login, secretary, approved):
    number, old_code = approved
    member = Member.objects.get(number=number)
    login(client, secretary)
    slip = client.post(reverse("union:member_code", args=[member.public_id]))
    new_code = CODE_ON_SLIP.search(slip.content.decode()).group(1)  # type: ignore[union-attr]
    client.logout()
    assert _set_password(client, number=number, code=old_code).status_code == 200
    assert _set_password(client, number=number, code=new_code).status_code == 302
