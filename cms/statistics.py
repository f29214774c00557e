"""Live figures from the platform for the public site: aggregated, rounded, never small.

Other apps offer a figure by registering a provider, typically in their AppConfig.ready():

    from cms import statistics

    statistics.register(
        "callouts_this_year",
        label=_("call-outs answered this year"),
        provider=selectors.callouts_answered_this_year,  # () -> Figure | None
    )

Only registered figures are offered to editors, so the site never shows a number that
nothing computes. A provider returns a Figure: the value and its *basis*, the number of
people or records it aggregates. A figure whose basis is below CMS_STATISTICS_MINIMUM is
not shown at all, because a small count can point at a person (three members in a town
is a list of names for the police). Shown values are rounded down to two significant
figures, so that day-to-day changes do not reveal who joined or left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

DEFAULT_MINIMUM = 10
CACHE_SECONDS = 600


@dataclass(frozen=True)
class Figure:
    """A count, or an amount of money in the currency's minor unit (cents, centimes)."""

    value: int
    basis: int  # how many people or records the value aggregates
    currency: str = ""  # ISO 4217 for money; "" for a count
    minor_digits: int = 2  # decimals of the currency (0 for XOF)
    exact: bool = False  # shown unrounded: only for counts of things, never of people


@dataclass(frozen=True)
class Statistic:
    key: str
    label: str | Promise
    provider: Callable[[], Figure | None]


@dataclass(frozen=True)
class Shown:
    """What the public page displays: the rounded number and whether it was rounded down."""

    number: str
    rounded: bool
    currency: str
    label: str | Promise


_registry: dict[str, Statistic] = {}


def register(key: str, *, label: str | Promise, provider: Callable[[], Figure | None]) -> Statistic:
    """Offer a live figure to editors. Registering the same key again replaces it."""
    statistic = Statistic(key=key, label=label, provider=provider)
    _registry[key] = statistic
    return statistic


def unregister(key: str) -> None:
    _registry.pop(key, None)


def registered() -> dict[str, Statistic]:
    return dict(_registry)


def choices() -> list[tuple[str, str | Promise]]:
    """The block's choices: only what some app has registered (a callable, so no migration)."""
    return [(key, stat.label) for key, stat in sorted(_registry.items())]


def minimum() -> int:
    return int(getattr(settings, "CMS_STATISTICS_MINIMUM", DEFAULT_MINIMUM))


def round_down(value: int) -> int:
    """Rounded towards zero: to tens below 100 (47 -> 40), else to two significant figures
    (213 -> 210, 3812 -> 3800)."""
    step = 10 if value < 100 else 10 ** (len(str(value)) - 2)
    return value - value % step


def shown(key: str) -> Shown | None:
    """The figure as the public may see it, or None: unknown, failing, or too small to show."""
    statistic = _registry.get(key)
    if statistic is None:
        return None
    cache_key = f"cms:statistic:{key}"
    figure = cache.get(cache_key)
    if figure is None:
        try:
            figure = statistic.provider()
        except Exception:
            # A broken provider must not take the public site down with it.
            logger.exception("statistic provider %s failed", key)
            return None
        if figure is None:
            return None
        cache.set(cache_key, figure, CACHE_SECONDS)
    if figure.basis < minimum() or figure.value <= 0:
        return None
    if figure.currency:
        major = figure.value // (10**figure.minor_digits)
        if major <= 0:
            return None
        rounded = round_down(major)
        if rounded <= 0:
            return None
        return Shown(
            number=number_format(rounded, force_grouping=True),
            rounded=rounded != major or figure.value % (10**figure.minor_digits) != 0,
            currency=figure.currency,
            label=statistic.label,
        )
    rounded = figure.value if figure.exact else round_down(figure.value)
    if rounded <= 0:
        return None
    return Shown(
        number=number_format(rounded, force_grouping=True),
        rounded=rounded != figure.value,
        currency="",
        label=statistic.label,
    )


# --- the platform's own figures ---------------------------------------------------------


def members_figure() -> Figure:
    """Members in good standing or lapsed: people who are in the union today."""
    from union.models import Member, MemberStatus

    count = Member.objects.filter(status__in=[MemberStatus.ACTIVE, MemberStatus.LAPSED]).count()
    return Figure(value=count, basis=count)


def branches_figure() -> Figure:
    """Branches with at least the minimum of members; a smaller one is not counted at all."""
    from union.models import Branch, MemberStatus

    counted = (
        Branch.objects.filter(is_national=False)
        .annotate(
            size=Count(
                "members",
                filter=Q(members__status__in=[MemberStatus.ACTIVE, MemberStatus.LAPSED]),
            )
        )
        .filter(size__gte=minimum())
        .values_list("size", flat=True)
    )
    sizes = list(counted)
    # Exact: the number of branches is public, and each one counted is large enough.
    return Figure(value=len(sizes), basis=sum(sizes), exact=True)


def register_platform_statistics() -> None:
    register("members", label=_("members"), provider=members_figure)
    register("branches", label=_("branches"), provider=branches_figure)
