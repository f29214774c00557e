from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from dues.models import EntryKind, LedgerEntry, Method
from union.forms import DateInput
from union.models import Branch, Member
from union.selectors import search_q


class LedgerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Member: number, name or phone"), method="search", max_length=100
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"), queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Entry"), choices=EntryKind.choices, empty_label=_("Any entry")
    )
    method = django_filters.ChoiceFilter(
        label=_("Method"), choices=Method.choices, empty_label=_("Any method")
    )
    booked_from = django_filters.DateFilter(
        label=_("From"), field_name="booked_on", lookup_expr="gte"
    )
    booked_to = django_filters.DateFilter(
        label=_("Until"), field_name="booked_on", lookup_expr="lte"
    )
    waiting = django_filters.BooleanFilter(
        label=_("Waiting for a second officer"), method="only_waiting"
    )

    class Meta:
        model = LedgerEntry
        fields = ["q", "branch", "kind", "method", "booked_from", "booked_to"]

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["branch"].queryset = branches
        for name in ("booked_from", "booked_to"):
            self.filters[name].field.widget = DateInput()

    def search(
        self, queryset: QuerySet[LedgerEntry], name: str, value: str
    ) -> QuerySet[LedgerEntry]:
        if not value.strip():
            return queryset
        return queryset.filter(member__in=Member.objects.filter(search_q(value)))

    def only_waiting(
        self, queryset: QuerySet[LedgerEntry], name: str, value: bool | None
    ) -> QuerySet[LedgerEntry]:
        if not value:
            return queryset
        return queryset.filter(
            needs_confirmation=True,
            kind=EntryKind.PAYMENT,
            confirmation__isnull=True,
            reversed_by__isnull=True,
        )


class ArrearsFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Number, name or phone"), method="search", max_length=100)
    min_months = django_filters.NumberFilter(
        label=_("At least this many months behind"), method="at_least"
    )

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(search_q(value)) if value.strip() else queryset

    def at_least(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(months_behind__gte=int(value)) if value else queryset
