"""After the branch's retention period the free text of closed call-outs and cases is
erased and the anonymous figures stay. Sharing a report outside the union needs the
member's recorded consent, is logged, and never carries who reported it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from crisis import figures
from crisis.models import Callout, CalloutNote, CrisisSettings, ShareRecord, StepKind
from crisis.services import callouts, cases, retention, sharing
from tests.crisis.conftest import log
from tests.factories import MemberFactory
from union.models import AuditEvent

CANARY = "Fanta Canary"


@pytest.fixture
def closed(coordinator, bamako):
    canary = MemberFactory(branch=bamako, working_name=CANARY, phone="+22376999999")
    callout = log(
        coordinator,
        bamako,
        member_number=canary.number,
        narrative="Canary story",
        area="Canary street",
    )
    callouts.add_note(actor=coordinator.user, callout=callout, text="Canary note")
    case = cases.open_case(actor=coordinator.user, callout=callout)
    cases.update_case(
        actor=coordinator.user, case=case, paralegal=None, lawyer="Me Canary", notes="x"
    )
    cases.close_case(actor=coordinator.user, case=case, outcome="dropped")
    callouts.close_callout(actor=coordinator.user, callout=callout, outcome="helped")
    callout.refresh_from_db()
    return callout


def test_free_text_is_erased_after_the_retention_period_and_the_figures_stay(closed, bamako):
    year = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    before = figures.response_figures([bamako], *year)
    with time_machine.travel(closed.closed_at + timedelta(days=364)):
        assert retention.erase_expired() == 0
    with time_machine.travel(closed.closed_at + timedelta(days=366)):
        assert retention.erase_expired() == 1
        assert retention.erase_expired() == 0  # once
    closed.refresh_from_db()
    assert (closed.narrative, closed.area, closed.member) == ("", "", None)
    assert closed.erased_at is not None
    assert not CalloutNote.objects.filter(callout=closed).exists()
    assert closed.steps.filter(kind=StepKind.ERASED).count() == 1
    assert closed.legal_case.lawyer == "" and closed.legal_case.member is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT narrative, area FROM crisis_callout WHERE id = %s", [closed.pk])
        assert cursor.fetchone() == ("", "")
    after = figures.response_figures([bamako], *year)
    assert [(f.callouts, f.minutes, f.by_outcome) for f in after] == [
        (f.callouts, f.minutes, f.by_outcome) for f in before
    ]
    assert AuditEvent.objects.filter(action="crisis.erase").get().rows == 2


def test_each_branch_keeps_its_own_retention_period(closed, bamako):
    CrisisSettings.objects.create(branch=bamako, retention_days=90)
    with time_machine.travel(closed.closed_at + timedelta(days=91)):
        assert retention.erase_expired() == 1


def test_open_callouts_are_never_erased(coordinator, bamako):
    callout = log(coordinator, bamako, narrative="Still going on")
    with time_machine.travel(callout.reported_at + timedelta(days=900)):
        retention.erase_expired()
    callout.refresh_from_db()
    assert callout.narrative == "Still going on"


def test_sharing_needs_recorded_consent_and_leaves_out_the_reporter(
    client, login, coordinator, bamako
):
    canary = MemberFactory(branch=bamako, working_name=CANARY, phone="+22376999999")
    callout = log(
        coordinator, bamako, member_number=canary.number, narrative="Beaten at the checkpoint"
    )
    with pytest.raises(ValidationError, match="consent"):
        sharing.share_report(
            actor=coordinator.user,
            callout=callout,
            recipient_kind="police",
            recipient="",
            consent=False,
        )
    assert not ShareRecord.objects.exists()
    login(client, coordinator)
    response = client.post(
        reverse("crisis:share", args=[callout.public_id]),
        {"recipient_kind": "lawyer", "recipient": "Legal clinic", "consent": "on"},
        follow=True,
    )
    body = response.content.decode()
    assert "Beaten at the checkpoint" in body
    assert CANARY not in body and canary.number not in body and "76999999" not in body
    callout.refresh_from_db()
    assert callout.share_consent
    assert callout.steps.filter(kind=StepKind.SHARED).count() == 1
    assert AuditEvent.objects.filter(action="crisis.share").count() == 2  # shared, then read
    assert Callout.objects.get(pk=callout.pk).shares.get().recipient == "Legal clinic"


def test_consent_given_for_a_lawyer_does_not_reach_the_police(coordinator, bamako):
    """Offender details go to the police only with the reporter's consent for the police;
    the reporter's own identity goes to nobody."""
    reporter = MemberFactory(branch=bamako, working_name=CANARY, phone="+22376999998")
    callout = log(
        coordinator,
        bamako,
        member_number=reporter.number,
        narrative="Tall man, grey car, plate AB-123",
        person_description=f"{CANARY}, green scarf",
    )
    sharing.share_report(
        actor=coordinator.user, callout=callout, recipient_kind="lawyer", recipient="", consent=True
    )
    with pytest.raises(ValidationError) as refused:
        sharing.share_report(
            actor=coordinator.user,
            callout=callout,
            recipient_kind="police",
            recipient="Commissariat 3",
            consent=False,
        )
    assert refused.value.code == "police_consent"
    assert ShareRecord.objects.filter(recipient_kind="police").count() == 0
    record = sharing.share_report(
        actor=coordinator.user,
        callout=callout,
        recipient_kind="police",
        recipient="Commissariat 3",
        consent=True,
    )
    summary = " ".join(str(v) for v in sharing.shared_summary(record).values())
    assert "plate AB-123" in summary  # the aggressor, with consent
    assert CANARY not in summary and reporter.number not in summary and "green scarf" not in summary
    assert AuditEvent.objects.filter(action="crisis.share").count() == 2
