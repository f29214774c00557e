"""The rota keeps local clock time in the branch's own time zone: an 08:00 handoff is at
08:00 on both sides of a change to or from summer time. Temporary rotas and swaps
replace the regular slots for the hours they cover; gaps are found exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crisis import rota, selectors
from crisis.models import Position, RotaSlot
from crisis.services.dispatch import roster_for
from tests.crisis.conftest import crisis_officer, log, texts_to
from tests.factories import BranchFactory
from union.models import Role

PARIS = ZoneInfo("Europe/Paris")


def _slot(member, position=Position.PRIMARY, start=time(8), end=time(20), **kw) -> RotaSlot:
    return RotaSlot(
        branch_id=member.branch_id,
        responder=member,
        position=position,
        starts_at=start,
        ends_at=end,
        valid_from=kw.pop("valid_from", date(2026, 1, 1)),
        **kw,
    )


@pytest.fixture
def lyon(db, national):
    return BranchFactory(code="LYS", name="Lyon", time_zone="Europe/Paris", parent=national)


@pytest.fixture
def day_and_night(lyon):
    day = crisis_officer(lyon, Role.CRISIS_RESPONDER, "+33612345601")
    night = crisis_officer(lyon, Role.CRISIS_RESPONDER, "+33612345602")
    return day, night


def _who(slots, at: datetime) -> list:
    return [s.responder for s in rota.on_duty(slots, at, PARIS)[Position.PRIMARY]]


def test_the_morning_handoff_stays_at_eight_local_across_the_spring_change(day_and_night):
    day, night = day_and_night
    slots = [_slot(day), _slot(night, start=time(20), end=time(8))]
    # Saturday 28 March 2026, winter time (UTC+1): 06:30 UTC is 07:30 in Lyon.
    assert _who(slots, datetime(2026, 3, 28, 6, 30, tzinfo=UTC)) == [night]
    # Sunday 29 March, summer time since 02:00 (UTC+2): 06:30 UTC is 08:30 in Lyon.
    assert _who(slots, datetime(2026, 3, 29, 6, 30, tzinfo=UTC)) == [day]
    assert _who(slots, datetime(2026, 3, 29, 5, 59, tzinfo=UTC)) == [night]  # 07:59
    # The night of the change is an hour shorter: 20:00 to 08:00 is 11 hours.
    assert _who(slots, datetime(2026, 3, 28, 18, 59, tzinfo=UTC)) == [day]  # 19:59
    assert _who(slots, datetime(2026, 3, 28, 19, 0, tzinfo=UTC)) == [night]  # 20:00


def test_the_handoff_stays_at_eight_local_across_the_autumn_change(day_and_night):
    day, night = day_and_night
    slots = [_slot(day), _slot(night, start=time(20), end=time(8))]
    # Sunday 25 October 2026, back to winter time at 03:00: 07:30 UTC is 08:30 local.
    assert _who(slots, datetime(2026, 10, 25, 7, 30, tzinfo=UTC)) == [day]
    assert _who(slots, datetime(2026, 10, 25, 6, 30, tzinfo=UTC)) == [night]  # 07:30
    # The repeated hour (02:00-03:00 twice) is night both times.
    assert _who(slots, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == [night]
    assert _who(slots, datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == [night]


def test_a_gap_across_the_spring_change_is_measured_in_real_hours(day_and_night):
    day, _night = day_and_night
    slots = [_slot(day)]  # nobody at night
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    gaps = rota.gaps(slots, start, start + timedelta(days=1), PARIS, Position.PRIMARY)
    night = gaps[0]
    assert night.starts == datetime(2026, 3, 28, 20, 0, tzinfo=PARIS)
    assert night.ends.astimezone(PARIS).time() == time(8, 0)
    assert night.duration == timedelta(hours=11)


def test_an_escalation_on_the_morning_of_the_change_alerts_the_day_responder(
    lyon, django_capture_on_commit_callbacks
):
    with time_machine.travel(datetime(2026, 3, 29, 6, 30, tzinfo=UTC), tick=False):
        day = crisis_officer(lyon, Role.CRISIS_RESPONDER, "+33612345601")
        night = crisis_officer(lyon, Role.CRISIS_RESPONDER, "+33612345602")
        coordinator = crisis_officer(lyon, Role.CRISIS_COORDINATOR, "+33612345603")
        _slot(day).save()
        _slot(night, start=time(20), end=time(8)).save()
        with django_capture_on_commit_callbacks(execute=True):
            log(coordinator, lyon)
    assert len(texts_to(day)) == 1 and texts_to(night) == []


def test_a_responder_whose_role_ended_is_not_alerted_from_an_old_slot(
    bamako, primary, backup, coordinator, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from union.models import RoleAssignment

    _slot(primary, start=time(0), end=time(0)).save()
    _slot(backup, position=Position.BACKUP, start=time(0), end=time(0)).save()
    RoleAssignment.objects.filter(member=primary).update(
        ends_on=timezone.localdate() - timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        log(coordinator, bamako)
    assert texts_to(primary) == []
    assert len(texts_to(backup)) == 1


def test_weekdays_and_dates_limit_a_slot(day_and_night):
    day, night = day_and_night
    weekdays = _slot(day, weekdays=0b0011111, valid_until=date(2026, 6, 30))  # Mon-Fri
    monday = datetime(2026, 6, 29, 10, tzinfo=PARIS)
    assert _who([weekdays], monday) == [day]
    assert _who([weekdays], monday + timedelta(days=5)) == []  # Saturday
    assert _who([weekdays], datetime(2026, 7, 1, 10, tzinfo=PARIS)) == []  # after the last day
    overnight = _slot(night, start=time(22), end=time(6), valid_until=date(2026, 6, 30))
    # The shift that starts on the last day runs on into the next morning.
    assert _who([overnight], datetime(2026, 7, 1, 5, tzinfo=PARIS)) == [night]
    assert _who([overnight], datetime(2026, 7, 1, 23, tzinfo=PARIS)) == []


def test_a_temporary_rota_replaces_the_regular_one_only_where_it_covers(day_and_night):
    day, night = day_and_night
    regular = _slot(day, start=time(0), end=time(0))  # around the clock
    holiday = _slot(
        night,
        start=time(18),
        end=time(23),
        temporary=True,
        valid_from=date(2026, 8, 1),
        valid_until=date(2026, 8, 3),
    )
    assert _who([regular, holiday], datetime(2026, 8, 2, 19, tzinfo=PARIS)) == [night]
    assert _who([regular, holiday], datetime(2026, 8, 2, 12, tzinfo=PARIS)) == [day]
    assert _who([regular, holiday], datetime(2026, 8, 4, 19, tzinfo=PARIS)) == [day]


def test_the_rota_screen_warns_of_gaps_and_unreachable_responders(
    client, login, bamako, primary, coordinator
):
    primary.consent_sms = False
    primary.save(update_fields=["consent_sms"])
    _slot(primary, start=time(8), end=time(20)).save()
    login(client, coordinator)
    body = client.get("/crisis/office/rota/?branch=BKO").content.decode()
    assert "Nobody is primary responder at these times" in body
    assert "Alerts cannot reach these responders" in body
    assert primary.working_name in body
    coverage = selectors.coverage(list(RotaSlot.objects.all()), bamako)
    assert coverage.unreachable == [primary]
    assert len(coverage.gaps) >= 7  # every night of the coming week


def test_roster_reads_the_rota_in_the_branchs_zone(lyon, day_and_night):
    day, night = day_and_night
    _slot(day).save()
    _slot(night, start=time(20), end=time(8)).save()
    at = datetime(2026, 3, 29, 6, 30, tzinfo=UTC)
    assert roster_for(lyon, at).on_duty(lyon.pk, Position.PRIMARY) == [day]
