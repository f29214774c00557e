"""Response figures: medians and 90th percentiles computed by the database, months in the
branch's time zone, merged duplicates not counted, small counts hidden, and no name,
phone or story in the figures, the exports or the public statistic."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cms import statistics as public_statistics
from crisis import figures
from crisis.models import Callout, CalloutStatus, Outcome
from tests.factories import MemberFactory
from union.models import AuditEvent

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
YEAR = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
CANARY_NAME, CANARY_PHONE = "Fanta Canary", "+22376999999"


def _callout(branch, reported, ack_minutes=None, arrive_minutes=None, **kw) -> Callout:
    dispatched = reported + timedelta(minutes=1)
    values = {
        "branch": branch,
        "kind": "arrest",
        "urgency": 1,
        "source": "helpline",
        "code": str(1000 + Callout.objects.count()),
        "reported_at": reported,
        "dispatched_at": dispatched,
        "acknowledged_at": dispatched + timedelta(minutes=ack_minutes)
        if ack_minutes is not None
        else None,
        "arrived_at": dispatched + timedelta(minutes=arrive_minutes)
        if arrive_minutes is not None
        else None,
        "status": CalloutStatus.CLOSED,
        "closed_at": reported + timedelta(hours=5),
        "outcome": Outcome.HELPED,
        **kw,
    }
    return Callout.objects.create(**values)


@pytest.fixture
def march(bamako):
    """12 call-outs in Bamako in March 2026, acknowledged after 1..12 minutes, arrived
    after 10..120; one more never acknowledged and escalated; one merged duplicate."""
    canary = MemberFactory(branch=bamako, working_name=CANARY_NAME, phone=CANARY_PHONE)
    made = [
        _callout(
            bamako,
            MARCH + timedelta(days=i),
            ack_minutes=i + 1,
            arrive_minutes=10 * (i + 1),
            member=canary,
            narrative="Canary story at the Canary bar",
            area="Canary street",
        )
        for i in range(12)
    ]
    _callout(bamako, MARCH + timedelta(days=20), escalations=2, outcome=Outcome.NOT_REACHED)
    _callout(bamako, MARCH + timedelta(days=3), ack_minutes=500, merged_into=made[0])
    return made


def _one(found):
    (row,) = found
    return row


@pytest.mark.embedded  # SQLite computes them in Python: the same figures
def test_medians_and_90th_percentiles_by_month(bamako, march):
    row = _one(figures.response_figures([bamako], *YEAR))
    assert row.month == MARCH.date()
    assert row.callouts == 13  # the merged duplicate is not counted
    assert row.minutes["ack_median"] == 6.5  # 1..12 minutes
    assert row.minutes["ack_p90"] == 10.9  # percentile_cont: 10 + 0.9 x (11 - 10)
    assert row.minutes["arrive_median"] == 65.0
    assert row.minutes["dispatch_median"] == 1.0
    assert row.never_acknowledged == 1 and row.escalated == 1
    assert row.by_type == {"arrest": 13}
    assert row.by_outcome == {"helped": 12, "not_reached": 1}


@pytest.mark.vendor("postgresql")
def test_the_database_and_the_fallback_agree(bamako, march):
    from crisis.figures import _in_python, _postgres, counted

    qs = counted([bamako], *YEAR)
    database, python = _postgres(qs), _in_python(qs)
    assert database.keys() == python.keys()
    for key, row in database.items():
        for name in (
            "callouts",
            "never_acknowledged",
            "escalated",
            "ack_median",
            "ack_p90",
            "arrive_median",
            "arrive_p90",
            "dispatch_median",
        ):
            assert row[name] == pytest.approx(python[key][name]), name
        assert row["by_type"] == dict(python[key]["by_type"])


@pytest.mark.embedded
def test_months_are_the_branchs_own(johannesburg):
    # 23:30 UTC on 31 March is 01:30 on 1 April in Johannesburg (UTC+2).
    _callout(johannesburg, datetime(2026, 3, 31, 23, 30, tzinfo=UTC), ack_minutes=3)
    assert _one(figures.response_figures([johannesburg], *YEAR)).month.month == 4


def test_small_counts_and_the_times_of_small_months_are_hidden(bamako, segou, march):
    _callout(segou, MARCH, ack_minutes=2)
    header, rows = figures.table(figures.response_figures([bamako, segou], *YEAR))
    bko = next(r for r in rows if r[0] == "BKO")
    seg = next(r for r in rows if r[0] == "SEG")
    assert bko[2] == 13 and bko[7] == 6.5
    assert bko[3] is None  # one call-out never acknowledged: fewer than 10, hidden
    assert seg[2] is None and seg[7] is None  # one call-out that month: nothing shown
    assert len(header) == len(bko)


def _export_text(client, fmt: str) -> str:
    response = client.get(reverse("crisis:figures_export"), {"format": fmt, "year": 2026})
    assert response.status_code == 200
    if fmt == "csv":
        return response.content.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return "\n".join(
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_carry_no_name_phone_or_story(client, login, coordinator, bamako, march, fmt):
    login(client, coordinator)
    text = _export_text(client, fmt)
    assert "BKO" in text and "2026-03" in text and "6.5" in text
    for secret in ("Canary", "76999999", CANARY_PHONE, "Grand", "story"):
        assert secret not in text
    for c in march:
        assert c.code not in text  # not even the reply codes
    event = AuditEvent.objects.get(action="crisis.figures")
    assert event.actor == coordinator.user and event.rows == 1


def test_the_figures_screen_shows_the_table_without_names(client, login, coordinator, march):
    login(client, coordinator)
    body = client.get(reverse("crisis:figures"), {"year": 2026}).content.decode()
    assert "6.5" in body and "Canary" not in body


def test_another_branchs_figures_are_not_yours(client, login, seg_responder, segou, march):
    from tests.crisis.conftest import crisis_officer
    from union.models import Role

    seg_coordinator = crisis_officer(segou, Role.CRISIS_COORDINATOR)
    login(client, seg_coordinator)
    assert client.get(reverse("crisis:figures"), {"branch": "BKO"}).status_code in (302, 404)
    assert "6.5" not in client.get(reverse("crisis:figures"), {"year": 2026}).content.decode()


def test_the_public_statistic_counts_answered_callouts_and_hides_small_ones(bamako, settings):
    settings.CMS_STATISTICS_MINIMUM = 10
    now = datetime.now(UTC)
    start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    for i in range(9):
        _callout(bamako, start + timedelta(minutes=i), ack_minutes=2)
    _callout(bamako, start + timedelta(minutes=30))  # never answered: not counted
    public_statistics.cache.clear()
    assert "callouts_this_year" in public_statistics.registered()
    assert public_statistics.shown("callouts_this_year") is None  # 9: too few to show
    _callout(bamako, start + timedelta(minutes=40), ack_minutes=2)
    public_statistics.cache.clear()
    shown = public_statistics.shown("callouts_this_year")
    assert shown is not None and shown.number == "10"
