from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

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

    def __init__(self, *args: Any, branches: QuerySet[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["branch"].queryset = branches
        self.branches = branches

    def search(self, queryset: QuerySet[Member], name: str, value: str) -> QuerySet[Member]:
        if not value.strip():
            return queryset
        # The regions cost a query: only worth it when the text could be a phone number.
        regions = phone_regions(self.branches) if sum(c.isdigit() for c in value) >= 6 else ()
        return queryset.filter(search_q(value, regions=regions))
