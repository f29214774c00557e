"""Response figures per branch and month, for the union's reports to members and donors.

- time to dispatch = first alert - reported
- time to acknowledge = first acknowledgement - first alert
- time to arrive = arrival - first alert
- "never acknowledged" and "escalated" are rates of their own, never filled in from the
  closing time.

Months are the branch's own (its time zone). A call-out merged into another is not
counted: its survivor is. Nothing here carries a name, a place or a story: only counts,
and durations in minutes. Counts below the minimum (CMS_STATISTICS_MINIMUM) are hidden,
and so are the durations of a month with fewer call-outs than that.

On PostgreSQL the medians and 90th percentiles are computed by the database
(percentile_cont), three grouped queries whatever the number of call-outs. The embedded
default (SQLite) has no percentile function: there the same figures are computed from
the rows, which its small volumes allow.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
)
from django.db.models.functions import Extract
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import statistics as public_statistics
from crisis import rota
from crisis.models import Callout, CalloutType, Outcome
from union.models import Branch

SECONDS = 60.0  # durations are shown in minutes


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the continuous percentile of an ordered set."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 < fraction < 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class LocalMonth(Func):
    """The first day of the month of a timestamp in the branch's own time zone."""

    template = "DATE_TRUNC('month', %(expressions)s)::date"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()


def _seconds(later: str, earlier: str) -> Extract:
    return Extract(ExpressionWrapper(F(later) - F(earlier), output_field=DurationField()), "epoch")


@dataclass
class MonthFigures:
    branch: Branch
    month: date
    callouts: int = 0
    never_acknowledged: int = 0
    escalated: int = 0
    unanswered: int = 0
    minutes: dict[str, float | None] = field(default_factory=dict)  # "ack_median"...
    by_type: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)

    def rate(self, count: int) -> float | None:
        return round(100 * count / self.callouts, 1) if self.callouts else None


DURATIONS = {
    "dispatch": ("dispatched_at", "reported_at"),
    "ack": ("acknowledged_at", "dispatched_at"),
    "arrive": ("arrived_at", "dispatched_at"),
}


def counted(branches: Iterable[Branch], start: datetime, end: datetime) -> QuerySet[Callout]:
    """The call-outs the figures count: reported in [start, end), not merged away."""
    return Callout.objects.filter(
        branch__in=list(branches),
        merged_into__isnull=True,
        reported_at__gte=start,
        reported_at__lt=end,
    )


def _postgres(qs: QuerySet[Callout]) -> dict[tuple[int, date], dict[str, Any]]:
    grouped = qs.annotate(month=LocalMonth("reported_at", "branch__time_zone")).values(
        "branch_id", "month"
    )
    aggregates: dict[str, Any] = {
        "callouts": Count("id"),
        "never_acknowledged": Count("id", filter=Q(acknowledged_at__isnull=True)),
        "escalated": Count("id", filter=Q(escalations__gt=0)),
        "unanswered": Count("id", filter=Q(unanswered_at__isnull=False)),
    }
    for name, (later, earlier) in DURATIONS.items():
        aggregates[f"{name}_median"] = Percentile(_seconds(later, earlier), 0.5)
        aggregates[f"{name}_p90"] = Percentile(_seconds(later, earlier), 0.9)
    rows: dict[tuple[int, date], dict[str, Any]] = {}
    for row in grouped.annotate(**aggregates).order_by():
        rows[(row["branch_id"], row["month"])] = {
            **row,
            "by_type": {},
            "by_outcome": {},
        }
    for dimension, key in (("kind", "by_type"), ("outcome", "by_outcome")):
        for row in (
            grouped.values("branch_id", "month", dimension).annotate(n=Count("id")).order_by()
        ):
            target = rows.get((row["branch_id"], row["month"]))
            if target is not None and row[dimension]:
                target[key][row[dimension]] = row["n"]
    return rows


def _percentile(values: list[float], fraction: float) -> float | None:
    """The same interpolation as percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _in_python(qs: QuerySet[Callout]) -> dict[tuple[int, date], dict[str, Any]]:
    rows: dict[tuple[int, date], dict[str, Any]] = {}
    spans: dict[tuple[int, date], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    fields = ["branch_id", "branch__time_zone", "kind", "outcome", "escalations", "unanswered_at"]
    fields += sorted({f for pair in DURATIONS.values() for f in pair})
    for c in qs.values(*fields).iterator():
        local = c["reported_at"].astimezone(rota.zone(c["branch__time_zone"]))
        key = (c["branch_id"], local.date().replace(day=1))
        row = rows.setdefault(
            key,
            {
                "callouts": 0,
                "never_acknowledged": 0,
                "escalated": 0,
                "unanswered": 0,
                "by_type": Counter(),
                "by_outcome": Counter(),
            },
        )
        row["callouts"] += 1
        row["never_acknowledged"] += c["acknowledged_at"] is None
        row["escalated"] += c["escalations"] > 0
        row["unanswered"] += c["unanswered_at"] is not None
        row["by_type"][c["kind"]] += 1
        if c["outcome"]:
            row["by_outcome"][c["outcome"]] += 1
        for name, (later, earlier) in DURATIONS.items():
            if c[later] is not None and c[earlier] is not None:
                spans[key][name].append((c[later] - c[earlier]).total_seconds())
    for key, row in rows.items():
        for name in DURATIONS:
            row[f"{name}_median"] = _percentile(spans[key][name], 0.5)
            row[f"{name}_p90"] = _percentile(spans[key][name], 0.9)
    return rows


def response_figures(
    branches: Iterable[Branch], start: datetime, end: datetime
) -> list[MonthFigures]:
    """Figures per branch and month, oldest month first. Not yet hidden: see `hide_small`."""
    branches = list(branches)
    qs = counted(branches, start, end)
    raw = _postgres(qs) if connection.vendor == "postgresql" else _in_python(qs)
    by_id = {b.pk: b for b in branches}
    out = []
    for (branch_id, month), row in sorted(
        raw.items(), key=lambda kv: (kv[0][1], by_id[kv[0][0]].name)
    ):
        out.append(
            MonthFigures(
                branch=by_id[branch_id],
                month=month,
                callouts=row["callouts"],
                never_acknowledged=row["never_acknowledged"],
                escalated=row["escalated"],
                unanswered=row["unanswered"],
                minutes={
                    f"{name}_{stat}": (
                        round(row[f"{name}_{stat}"] / SECONDS, 1)
                        if row[f"{name}_{stat}"] is not None
                        else None
                    )
                    for name in DURATIONS
                    for stat in ("median", "p90")
                },
                by_type=dict(row["by_type"]),
                by_outcome=dict(row["by_outcome"]),
            )
        )
    return out


# --- what may be shown ------------------------------------------------------------------

HIDDEN = None  # a hidden cell


def minimum() -> int:
    return public_statistics.minimum()


def shown_count(n: int) -> int | None:
    return n if n >= minimum() else HIDDEN


def table(figures: list[MonthFigures]) -> tuple[list[str], list[list[Any]]]:
    """The export's header and rows: counts under the minimum and the durations of small
    months are left empty. Keys, not names: branch code, month, counts, minutes."""
    kinds = list(CalloutType.values)
    outcomes = list(Outcome.values)
    header = [
        _("Branch"),
        _("Month"),
        _("Call-outs"),
        _("Never acknowledged"),
        _("Escalated"),
        _("Unanswered"),
        _("Minutes to dispatch (median)"),
        _("Minutes to acknowledge (median)"),
        _("Minutes to acknowledge (90th percentile)"),
        _("Minutes to arrive (median)"),
        _("Minutes to arrive (90th percentile)"),
        *[str(label) for value, label in CalloutType.choices if value in kinds],
        *[str(label) for value, label in Outcome.choices if value in outcomes],
    ]
    rows = []
    for f in figures:
        big_enough = f.callouts >= minimum()
        minutes = f.minutes if big_enough else {}
        rows.append(
            [
                f.branch.code,
                f.month.strftime("%Y-%m"),
                shown_count(f.callouts),
                shown_count(f.never_acknowledged) if big_enough else HIDDEN,
                shown_count(f.escalated) if big_enough else HIDDEN,
                shown_count(f.unanswered) if big_enough else HIDDEN,
                minutes.get("dispatch_median"),
                minutes.get("ack_median"),
                minutes.get("ack_p90"),
                minutes.get("arrive_median"),
                minutes.get("arrive_p90"),
                *[shown_count(f.by_type.get(k, 0)) for k in kinds],
                *[shown_count(f.by_outcome.get(o, 0)) for o in outcomes],
            ]
        )
    return header, rows


# --- the public site ----------------------------------------------------------------------


def callouts_answered_this_year() -> public_statistics.Figure:
    """Call-outs a responder took on since 1 January (UTC), merged duplicates not counted.
    A count of events, aggregated over every branch: the public site hides it if small."""
    now = timezone.now()
    start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    count = Callout.objects.filter(
        merged_into__isnull=True,
        reported_at__gte=start,
        acknowledged_at__isnull=False,
    ).count()
    return public_statistics.Figure(value=count, basis=count)


def register_public_statistics() -> None:
    from django.utils.translation import gettext_lazy

    public_statistics.register(
        "callouts_this_year",
        label=gettext_lazy("call-outs answered this year"),
        provider=callouts_answered_this_year,
    )
