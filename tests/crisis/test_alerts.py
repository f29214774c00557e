"""Safety alerts: drafted by the team, published only after a coordinator's review against
the written criteria, sent to members who agreed, in their language, expiring, and never
pointing at the member who reported the danger."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crisis.models import AlertStatus, SafetyAlert
from crisis.services import alerts
from tests.crisis.conftest import log, texts_to
from tests.factories import MemberFactory
from union.models import ContactPreference
from union.notifications.sms import LocmemSmsBackend

ALL = set(alerts.CRITERIA)
CANARY_NAME, CANARY_PHONE = "Fanta Canary", "+22376999999"


@pytest.fixture
def consenting(bamako, segou):
    def person(branch, phone, language="fr", consent=True):
        return MemberFactory(
            branch=branch,
            phone=phone,
            consent_sms=consent,
            contact_preference=ContactPreference.SMS,
            preferred_language=language,
        )

    return {
        "fr": person(bamako, "+22376100001"),
        "en": person(bamako, "+22376100002", language="en"),
        "no_consent": person(bamako, "+22376100003", consent=False),
        "segou": person(segou, "+22376100004"),
    }


def _draft(actor, branch, callout=None, **kw):
    texts = kw.pop("texts", {"fr": "Client dangereux : voiture grise, refuse de payer."})
    return alerts.draft_alert(
        actor=actor.user,
        branch=branch,
        kind="violent_client",
        texts=texts,
        days=30,
        callout=callout,
        **kw,
    )


def test_a_reviewed_alert_goes_to_consenting_members_in_their_language(
    rota, coordinator, bamako, consenting, django_capture_on_commit_callbacks
):
    alert = _draft(
        rota["primary"],
        bamako,
        texts={"fr": "Client dangereux : voiture grise.", "en": "Dangerous client: grey car."},
    )
    assert LocmemSmsBackend.outbox == []  # a draft sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        sent = alerts.publish_alert(actor=coordinator.user, alert=alert, criteria=ALL)
    assert sent >= 2
    assert texts_to(consenting["fr"]) == ["Client dangereux : voiture grise."]
    assert texts_to(consenting["en"]) == ["Dangerous client: grey car."]
    assert texts_to(consenting["no_consent"]) == []
    assert texts_to(consenting["segou"]) == []


def test_publishing_needs_every_criterion_and_a_coordinator(rota, coordinator, bamako, consenting):
    alert = _draft(rota["primary"], bamako)
    with pytest.raises(ValidationError, match="every criterion"):
        alerts.publish_alert(actor=coordinator.user, alert=alert, criteria=ALL - {"anonymous"})
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        alerts.publish_alert(actor=rota["primary"].user, alert=alert, criteria=ALL)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT
    assert LocmemSmsBackend.outbox == []


def test_an_outreach_report_needs_the_members_recorded_consent(rota, coordinator, bamako):
    alert = _draft(rota["primary"], bamako, from_outreach=True, consent_recorded=False)
    with pytest.raises(ValidationError, match="recorded consent"):
        alerts.publish_alert(actor=coordinator.user, alert=alert, criteria=ALL)


def test_an_alert_that_points_at_the_reporter_is_refused(rota, coordinator, bamako):
    canary = MemberFactory(branch=bamako, working_name=CANARY_NAME, phone=CANARY_PHONE)
    callout = log(coordinator, bamako, kind="client_violence", member_number=canary.number)
    for text in (
        "Fanta Canary was beaten by a client in a grey car.",
        "Call 76 99 99 99 for details.",
        f"Member {canary.number} was attacked.",
    ):
        with pytest.raises(ValidationError, match="points at the member"):
            _draft(rota["primary"], bamako, callout=callout, texts={"fr": text})
    fine = _draft(rota["primary"], bamako, callout=callout)
    assert fine.callout == callout


def test_members_read_current_alerts_of_their_branch_only_until_they_expire(
    client,
    login,
    rota,
    coordinator,
    bamako,
    member,
    other_secretary,
    django_capture_on_commit_callbacks,
):
    alert = _draft(rota["primary"], bamako)
    login(client, member)
    assert "voiture grise" not in client.get(reverse("crisis:alerts")).content.decode()  # draft
    with django_capture_on_commit_callbacks(execute=True):
        alerts.publish_alert(actor=coordinator.user, alert=alert, criteria=ALL)
    page = client.get(reverse("crisis:alerts")).content.decode()
    assert "voiture grise" in page
    assert coordinator.working_name not in page and rota["primary"].working_name not in page
    login(client, other_secretary)  # a Ségou member
    assert "voiture grise" not in client.get(reverse("crisis:alerts")).content.decode()
    login(client, member)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert "voiture grise" not in client.get(reverse("crisis:alerts")).content.decode()
    alerts.withdraw_alert(actor=coordinator.user, alert=alert)
    assert "voiture grise" not in client.get(reverse("crisis:alerts")).content.decode()


def test_the_team_drafts_and_the_coordinator_publishes_on_screen(
    client, login, rota, coordinator, bamako, consenting, django_capture_on_commit_callbacks
):
    callout = log(coordinator, bamako, kind="police_violence")
    login(client, rota["primary"])
    page = client.get(reverse("crisis:detail", args=[callout.public_id])).content.decode()
    assert "Draft a safety alert from this report" in page
    response = client.post(
        reverse("crisis:alert_new") + f"?callout={callout.public_id}",
        {"kind": "police", "days": 7, "text_fr": "Contrôles de police au marché ce soir."},
    )
    alert = SafetyAlert.objects.get()
    assert response["Location"] == reverse("crisis:alert_detail", args=[alert.public_id])
    login(client, coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("crisis:alert_publish", args=[alert.public_id]), {"criteria": sorted(ALL)}
        )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PUBLISHED and alert.reviewed_by == coordinator
    assert texts_to(consenting["fr"]) == ["Contrôles de police au marché ce soir."]
