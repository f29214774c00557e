"""Legal follow-up: a case opened from an arrest, a paralegal from the crisis team, court
dates in the branch's local time, one neutral reminder the day before, an outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crisis.models import CourtDate, LegalCase
from crisis.services import cases
from tests.crisis.conftest import log, texts_to


@pytest.fixture
def arrest(coordinator, reporter, bamako):
    return log(coordinator, bamako, kind="arrest", member_number=reporter.number)


def test_a_case_is_opened_once_from_its_callout(client, login, rota, arrest):
    login(client, rota["primary"])
    first = client.post(reverse("crisis:case_open", args=[arrest.public_id]))
    again = client.post(reverse("crisis:case_open", args=[arrest.public_id]))
    case = LegalCase.objects.get()
    assert (
        first["Location"]
        == again["Location"]
        == reverse("crisis:case_detail", args=[case.public_id])
    )
    assert case.member == arrest.member


def test_the_paralegal_comes_from_the_crisis_team(rota, coordinator, arrest, bamako):
    from tests.factories import MemberFactory

    case = cases.open_case(actor=coordinator.user, callout=arrest)
    with pytest.raises(ValidationError):
        cases.update_case(
            actor=coordinator.user,
            case=case,
            paralegal=MemberFactory(branch=bamako),
            lawyer="",
            notes="",
        )
    cases.update_case(
        actor=coordinator.user,
        case=case,
        paralegal=rota["backup"],
        lawyer="Maître Diallo, legal-aid clinic",
        notes="Hearing expected next week",
    )
    case.refresh_from_db()
    assert case.paralegal == rota["backup"] and case.lawyer.startswith("Maître")


def test_court_dates_are_entered_in_the_branchs_time_and_reminded_once(
    client, login, rota, coordinator, reporter, arrest, django_capture_on_commit_callbacks
):
    case = cases.open_case(actor=coordinator.user, callout=arrest)
    cases.update_case(
        actor=coordinator.user, case=case, paralegal=rota["backup"], lawyer="", notes=""
    )
    tomorrow = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    login(client, rota["primary"])
    client.post(
        reverse("crisis:case_detail", args=[case.public_id]),
        {"action": "court", "at": f"{tomorrow}T09:30", "place": "Tribunal de la Commune III"},
    )
    court = CourtDate.objects.get()
    assert (
        court.at.astimezone(timezone.get_fixed_timezone(0)).strftime("%H:%M") == "09:30"
    )  # Bamako is UTC
    remind_at = court.at - timedelta(hours=24)
    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(remind_at, tick=False),
    ):
        assert cases.send_court_reminders() == 1
        assert cases.send_court_reminders() == 0  # once
    (to_member,) = texts_to(reporter)
    assert "09:30" in to_member and "court" not in to_member.lower()  # neutral on her phone
    assert f"case {case.pk}" in texts_to(rota["backup"])[-1]


def test_a_closed_case_has_an_outcome_and_is_no_longer_reminded(
    coordinator, arrest, django_capture_on_commit_callbacks
):
    case = cases.open_case(actor=coordinator.user, callout=arrest)
    at = timezone.now() + timedelta(days=2)
    cases.add_court_date(actor=coordinator.user, case=case, at=at, place="")
    with pytest.raises(ValidationError):
        cases.close_case(actor=coordinator.user, case=case, outcome="")
    cases.close_case(actor=coordinator.user, case=case, outcome="dropped")
    with time_machine.travel(at - timedelta(hours=24), tick=False):
        assert cases.send_court_reminders() == 0


def test_another_branch_cannot_see_a_case(client, login, seg_responder, coordinator, arrest):
    case = cases.open_case(actor=coordinator.user, callout=arrest)
    login(client, seg_responder)
    response = client.get(reverse("crisis:case_detail", args=[case.public_id]), follow=True)
    assert response.status_code == 404
