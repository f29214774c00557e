from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from union import registry
from union.models import Branch, Member, MemberStatus
from union.selectors import phone_regions, search_q


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, number or phone"), method="search", max_length=100)
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"), queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[c for c in MemberStatus.choices if c[0] not in ("applicant", "rejected")],
        empty_label=_("Any status"),
    )

    class Meta:
        model = Member
        fields = ["q", "branch", "status"]

    def __init__(
        self, *args: Any, branches: QuerySet[Branch], show_standing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.filters["branch"].queryset = branches
        self.branches = branches
        display = registry.standing_display()
        if show_standing and display is not None:
            # The dues app's own words and SQL: the same answer as its screens.
            self.filters["standing"] = django_filters.ChoiceFilter(
                label=_("Dues"),
                choices=display.choices,
                empty_label=_("Any"),
                method="by_standing",
            )
            self.filters["standing"].model = Member
            self.filters["standing"].parent = self
            self.standing_display = display

    def by_standing(self, queryset: QuerySet[Member], name: str, value: str) -> QuerySet[Member]:
        if not value:
            return queryset
        return self.standing_display.annotate(queryset).filter(Q(standing=value))

    def search(self, queryset: QuerySet[Member], name: str, value: str) -> QuerySet[Member]:
        if not value.strip():
            return queryset
        # The regions cost a query: only worth it when the text could be a phone number.
        regions = phone_regions(self.branches) if sum(c.isdigit() for c in value) >= 6 else ()
        return queryset.filter(search_q(value, regions=regions))
