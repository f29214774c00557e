"""The crisis team's screens and a member's own report, through the test client: plain
forms, no JavaScript. Bad input gets a translated error and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crisis.models import (
    Callout,
    CalloutStatus,
    CrisisSettings,
    Position,
    RotaSlot,
    Source,
    StepKind,
    Urgency,
)
from tests.crisis.conftest import log, texts_to
from tests.factories import MemberFactory
from union.models import AuditEvent


def _form(**overrides):
    data = {
        "branch": "",
        "kind": "arrest",
        "urgency": str(Urgency.URGENT),
        "source": Source.HELPLINE,
        "member_number": "",
        "person_description": "Star, red dress",
        "needs": ["legal", "bail"],
        "area": "Badalabougou",
        "narrative": "Picked up in a raid at the bar.",
    }
    data.update(overrides)
    return data


def test_a_responder_logs_a_callout_and_the_primary_is_alerted(
    client, login, rota, bamako, django_capture_on_commit_callbacks
):
    login(client, rota["backup"])
    page = client.get(reverse("crisis:log"))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("crisis:log"), _form(branch=bamako.pk))
    callout = Callout.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("crisis:detail", args=[callout.public_id])
    assert callout.person_description == "Star, red dress"
    assert callout.needs == ["bail", "legal"]
    assert callout.status == CalloutStatus.DISPATCHED
    assert len(texts_to(rota["primary"])) == 1
    follow = client.get(response["Location"])
    body = follow.content.decode()
    assert "Badalabougou" in body and "Picked up in a raid" in body
    assert "the responder on duty has been alerted" in body


def test_a_member_number_finds_the_member_of_the_branch(
    client, login, rota, bamako, django_capture_on_commit_callbacks
):
    target = MemberFactory(branch=bamako)
    login(client, rota["backup"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("crisis:log"),
            _form(branch=bamako.pk, member_number=target.number.lower(), person_description=""),
        )
    assert Callout.objects.get().member == target


@pytest.mark.parametrize("where", ["nowhere", "segou"])
def test_an_unknown_or_other_branch_number_is_refused_and_nothing_is_logged(
    client, login, rota, bamako, segou, where
):
    number = "BKO-999999" if where == "nowhere" else MemberFactory(branch=segou).number
    login(client, rota["backup"])
    response = client.post(reverse("crisis:log"), _form(branch=bamako.pk, member_number=number))
    assert response.status_code == 200
    assert "No member of this branch has that number." in response.content.decode()
    assert not Callout.objects.exists()
    assert texts_to(rota["primary"]) == []


def test_a_callout_in_another_branch_cannot_be_logged(client, login, rota, segou):
    login(client, rota["backup"])
    response = client.post(reverse("crisis:log"), _form(branch=segou.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Callout.objects.exists()


def test_the_log_form_speaks_french(french, login, rota):
    login(french, rota["backup"])
    body = french.get(reverse("crisis:log")).content.decode()
    assert "Enregistrer une intervention" in body and "Urgent : en danger maintenant" in body


def test_a_member_reports_for_herself_and_sees_only_the_status(
    client, login, reporter, rota, django_capture_on_commit_callbacks
):
    login(client, reporter)
    assert client.get(reverse("crisis:report")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("crisis:report"),
            {
                "who": "me",
                "kind": "client_violence",
                "danger": "yes",
                "area": "Hippodrome",
                "needs": ["medical"],
                "narrative": "He would not leave.",
            },
        )
    assert response.status_code == 302
    callout = Callout.objects.get()
    assert callout.member == reporter and callout.reported_by == reporter
    assert callout.urgency == Urgency.URGENT and callout.source == Source.MEMBER
    assert len(texts_to(rota["primary"])) == 1
    mine = client.get(reverse("crisis:my_reports")).content.decode()
    assert "the team has been alerted" in mine
    assert "He would not leave" not in mine  # only the status comes back


def test_reporting_for_a_colleague_needs_a_way_to_find_her(client, login, reporter, rota):
    login(client, reporter)
    response = client.post(
        reverse("crisis:report"),
        {"who": "other", "kind": "arrest", "danger": "no", "area": "", "narrative": ""},
    )
    assert response.status_code == 200
    assert "how the crisis team will know who to look for" in response.content.decode()
    assert not Callout.objects.exists()


def test_viewing_a_callout_is_in_the_access_log(client, login, rota, coordinator, bamako):
    callout = log(coordinator, bamako)
    login(client, rota["backup"])
    client.get(reverse("crisis:detail", args=[callout.public_id]))
    event = AuditEvent.objects.filter(action="crisis.view").get()
    assert event.actor == rota["backup"].user
    assert event.target == f"callout:{callout.public_id}"
    assert callout.code not in event.target


def test_another_branch_sees_nothing_and_the_national_coordinator_sees_it(
    client, login, coordinator, seg_responder, national_crisis, bamako
):
    callout = log(coordinator, bamako, narrative="Canary story")
    login(client, seg_responder)
    hidden = client.get(reverse("crisis:detail", args=[callout.public_id]), follow=True)
    assert hidden.status_code == 404
    assert "Canary" not in hidden.content.decode()
    assert callout.code not in client.get(reverse("crisis:dashboard")).content.decode()
    login(client, national_crisis)
    assert (
        "Canary story"
        in client.get(reverse("crisis:detail", args=[callout.public_id])).content.decode()
    )


def test_going_on_the_web_and_a_second_responder_hears_it_is_taken(
    client, login, rota, coordinator, bamako
):
    callout = log(coordinator, bamako)
    login(client, rota["primary"])
    client.post(reverse("crisis:answer", args=[callout.public_id]), {"answer": "ok"})
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.ACKNOWLEDGED
    login(client, rota["backup"])
    response = client.post(
        reverse("crisis:answer", args=[callout.public_id]), {"answer": "ok"}, follow=True
    )
    body = response.content.decode()
    assert "Already taken by the primary responder" in body
    assert rota["primary"].working_name not in body.split("Already taken")[1].split("</p>")[0]


def test_a_no_to_an_alert_that_was_not_yours_changes_nothing(
    client, login, rota, coordinator, bamako
):
    callout = log(coordinator, bamako)
    login(client, rota["backup"])  # only the primary was alerted
    response = client.post(
        reverse("crisis:answer", args=[callout.public_id]), {"answer": "no"}, follow=True
    )
    assert "This alert was not sent to you" in response.content.decode()
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED and callout.chain_step == 0


def test_the_coordinator_closes_and_a_late_ok_never_reopens(
    client, login, rota, coordinator, bamako
):
    callout = log(coordinator, bamako)
    login(client, coordinator)
    client.post(reverse("crisis:close", args=[callout.public_id]), {"outcome": "not_needed"})
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.CLOSED and callout.outcome == "not_needed"
    login(client, rota["primary"])
    response = client.post(
        reverse("crisis:answer", args=[callout.public_id]), {"answer": "ok"}, follow=True
    )
    assert "already closed" in response.content.decode()
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.CLOSED


def test_a_responder_cannot_close(client, login, rota, coordinator, bamako):
    callout = log(coordinator, bamako)
    login(client, rota["primary"])
    response = client.post(reverse("crisis:close", args=[callout.public_id]), {"outcome": "helped"})
    assert response.status_code == 403
    callout.refresh_from_db()
    assert callout.status != CalloutStatus.CLOSED


def test_notes_are_kept_encrypted_and_shown_to_the_team(client, login, rota, coordinator, bamako):
    from django.db import connection

    callout = log(coordinator, bamako)
    login(client, rota["primary"])
    client.post(reverse("crisis:note", args=[callout.public_id]), {"text": "Lawyer Diallo called"})
    page = client.get(reverse("crisis:detail", args=[callout.public_id])).content.decode()
    assert "Lawyer Diallo called" in page
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM crisis_calloutnote")
        (stored,) = cursor.fetchone()
    assert "Diallo" not in stored


def test_the_same_incident_logged_twice_is_offered_for_merging_and_can_be_undone(
    client, login, rota, coordinator, bamako, segou, seg_responder
):
    first = log(coordinator, bamako, narrative="First call")
    second = log(rota["backup"], bamako, narrative="Second call")
    old = log(coordinator, bamako)
    Callout.objects.filter(pk=old.pk).update(reported_at=timezone.now() - timedelta(hours=25))
    elsewhere = log(seg_responder, segou)
    login(client, coordinator)
    page = client.get(reverse("crisis:detail", args=[first.public_id])).content.decode()
    assert second.code in page.split("Possible duplicates")[1]
    assert old.code not in page.split("Possible duplicates")[1]
    assert elsewhere.code not in page

    client.post(
        reverse("crisis:merge", args=[first.public_id]), {"duplicate": str(second.public_id)}
    )
    second.refresh_from_db()
    assert second.merged_into == first
    page = client.get(reverse("crisis:detail", args=[first.public_id])).content.decode()
    assert f"from call-out {second.code}" in page  # both timelines
    dashboard = client.get(reverse("crisis:dashboard")).content.decode()
    assert first.code in dashboard and second.code not in dashboard

    client.post(reverse("crisis:unmerge", args=[second.public_id]))
    second.refresh_from_db()
    assert second.merged_into is None
    kinds = list(second.steps.values_list("kind", flat=True))
    assert StepKind.MERGED in kinds and StepKind.UNMERGED in kinds


def test_the_dashboard_shows_open_callouts_by_urgency_in_few_queries(
    client, login, rota, coordinator, bamako, django_assert_max_num_queries
):
    for urgency in (Urgency.ROUTINE, Urgency.URGENT, Urgency.TODAY):
        for _i in range(3):
            log(coordinator, bamako, urgency=urgency)
    login(client, coordinator)
    client.get(reverse("crisis:dashboard"))  # warm the session
    with django_assert_max_num_queries(14):
        body = client.get(reverse("crisis:dashboard")).content.decode()
    assert body.index("Urgent: in danger now") < body.index("Today") < body.index("Can wait")
    # A plain reload shows the news: no script, and no automatic refresh (WCAG 2.2.1).
    assert "<script" not in body.split("</head>")[1] and 'http-equiv="refresh"' not in body
    assert ">Reload</a>" in body


def test_the_coordinator_builds_the_rota_from_the_crisis_team_only(
    client, login, coordinator, primary, bamako
):
    outsider = MemberFactory(branch=bamako)
    login(client, coordinator)
    page = client.get(reverse("crisis:slot_add") + "?branch=BKO").content.decode()
    assert primary.working_name in page and outsider.working_name not in page
    response = client.post(
        reverse("crisis:slot_add") + "?branch=BKO",
        {
            "position": Position.PRIMARY,
            "responder": primary.pk,
            "weekdays": ["0", "1", "2", "3", "4"],
            "starts_at": "08:00",
            "ends_at": "20:00",
            "valid_from": "2026-01-01",
        },
    )
    assert response.status_code == 302
    slot = RotaSlot.objects.get()
    assert slot.responder == primary and slot.weekdays == 0b0011111
    refused = client.post(
        reverse("crisis:slot_add") + "?branch=BKO",
        {
            "position": Position.BACKUP,
            "responder": outsider.pk,
            "weekdays": ["0"],
            "starts_at": "08:00",
            "ends_at": "20:00",
            "valid_from": "2026-01-01",
        },
    )
    assert refused.status_code == 200
    assert RotaSlot.objects.count() == 1


def test_a_swap_replaces_the_regular_shift_for_its_days(
    client, login, coordinator, primary, backup, bamako
):
    from crisis.services.dispatch import roster_for
    from tests.crisis.conftest import slot

    regular = slot(bamako, primary, Position.PRIMARY)
    today = timezone.localdate()
    login(client, coordinator)
    client.post(
        reverse("crisis:slot_swap", args=[regular.pk]),
        {"responder": backup.pk, "first_day": today - timedelta(days=1), "last_day": today},
    )
    swap = RotaSlot.objects.get(temporary=True)
    assert swap.replaces == regular and swap.responder == backup
    assert roster_for(bamako).on_duty(bamako.pk, Position.PRIMARY) == [backup]


def test_branch_words_that_clash_are_refused(client, login, coordinator, bamako):
    login(client, coordinator)
    data = {
        "answer_minutes": 10,
        "urgent_answer_minutes": 5,
        "arrive_minutes": 45,
        "chain_repeats": 2,
        "retention_days": 365,
        "kw_ok": "oui, sawa",
        "kw_no": "non, ok",
    }
    response = client.post(reverse("crisis:settings") + "?branch=BKO", data)
    assert response.status_code == 200
    assert "cannot be used" in response.content.decode()
    assert not CrisisSettings.objects.exists()
    data["kw_no"] = "non, hapana"
    client.post(reverse("crisis:settings") + "?branch=BKO", data)
    assert CrisisSettings.objects.get().keywords == {"ok": ["oui", "sawa"], "no": ["non", "hapana"]}


def test_a_members_callout_leads_to_a_welfare_request_on_her_behalf(
    client, login, rota, coordinator, bamako
):
    target = MemberFactory(branch=bamako)
    callout = log(coordinator, bamako, member_number=target.number)
    login(client, rota["primary"])
    page = client.get(reverse("crisis:detail", args=[callout.public_id])).content.decode()
    link = reverse("dues:welfare_apply_for") + f"?number={target.number}"
    assert link in page
    form = client.get(link)
    assert form.status_code == 200
    assert target.number in form.content.decode()


def test_a_member_finds_crisis_help_her_alerts_and_her_cases_from_her_account(
    client, login, rota, reporter, bamako, coordinator
):
    from crisis.services.cases import add_court_date, open_case, update_case

    callout = log(coordinator, bamako, member_number=reporter.number)
    case = open_case(actor=coordinator.user, callout=callout)
    update_case(
        actor=coordinator.user, case=case, paralegal=None, lawyer="Maître Kéita", notes="Weak file"
    )
    add_court_date(
        actor=coordinator.user, case=case, at=timezone.now() + timedelta(days=3), place="Tribunal"
    )
    login(client, reporter)
    account = client.get(reverse("union:profile")).content.decode()
    for name in ("crisis:report", "crisis:alerts", "crisis:my_reports"):
        assert f'href="{reverse(name)}' in account
    assert "Current safety alerts" in account and "My legal cases" in account
    mine = client.get(reverse("crisis:my_reports")).content.decode()
    assert "Court date:" in mine
    assert "Kéita" not in mine and "Weak file" not in mine  # the team's words stay with it


def test_a_member_sees_no_one_elses_case(client, login, rota, reporter, bamako, coordinator):
    from crisis.services.cases import open_case

    other = MemberFactory(branch=bamako)
    open_case(actor=coordinator.user, callout=log(coordinator, bamako, member_number=other.number))
    login(client, reporter)
    mine = client.get(reverse("crisis:my_reports")).content.decode()
    assert "You have no legal case followed by the union." in mine


@pytest.mark.parametrize("duplicate", ["", "not-an-id", "self"])
def test_a_merge_without_a_real_duplicate_is_refused_plainly(
    client, login, rota, coordinator, bamako, duplicate
):
    callout = log(coordinator, bamako)
    login(client, coordinator)
    value = str(callout.public_id) if duplicate == "self" else duplicate
    response = client.post(
        reverse("crisis:merge", args=[callout.public_id]), {"duplicate": value}, follow=True
    )
    assert response.status_code == 200
    assert "Choose the duplicate call-out to merge into this one." in response.content.decode()
    callout.refresh_from_db()
    assert callout.merged_into is None
    assert not callout.steps.filter(kind=StepKind.MERGED).exists()
