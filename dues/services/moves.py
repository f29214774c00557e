"""A member's dues when she moves branch: the account closes in the branch she left and
opens in the new one, in the core's move transaction (union.services.moves; registered as
the "dues" move step in DuesConfig.ready).

The old account closes one of three ways, which the receiving officer chooses:
- settled: nothing owed, nothing paid ahead (she paid up at the old counter first);
- carried: what she owed, or had paid ahead, is closed in the old branch by a closing row
  and opens in the new one, converted at the latest rate a treasurer recorded for the two
  currencies. Carried arrears keep their age (owed_since): arrears beyond the new
  branch's grace months keep her out of good standing until she pays them there;
- written off, with a reason: what she owed is dropped (never what she paid ahead).

Conversion is exact: minor units times a rate kept as a fraction of integers, rounded
once to the nearest minor unit of the new currency, a half going the member's way (a
debt down, a credit up).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Sum
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dues import money
from dues.audit import DuesAction
from dues.models import (
    AccountTransfer,
    CardSubscription,
    Closing,
    ConversionRate,
    DuesPlan,
    EntryKind,
    LedgerEntry,
    SubscriptionStatus,
)
from dues.selectors import awaiting_q, counts_q, open_charges
from dues.services import allocation
from dues.services.common import sync_standing
from union.models import Branch, Member, MemberMove
from union.permissions import Perm, require
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

STEP = "dues"
# A rate is typed as a decimal ("0.0302"); more digits than this is a typing mistake.
RATE_MAX_DIGITS = 12


# --- exchange rates ------------------------------------------------------------------


def latest_rate(from_currency: str, to_currency: str) -> ConversionRate | None:
    return (
        ConversionRate.objects.filter(from_currency=from_currency, to_currency=to_currency)
        .order_by("-recorded_at", "-id")
        .first()
    )


def rate_as_decimal(rate: ConversionRate) -> Decimal:
    """For display only: the fraction as a decimal (it is exact when typed as one)."""
    return (Decimal(rate.numerator) / Decimal(rate.denominator)).normalize()


def rate_display(rate: ConversionRate) -> str:
    """The rate in the active language's number format (0,0302 in French)."""
    value = rate_as_decimal(rate)
    places = max(-int(value.as_tuple().exponent), 0)
    return formats.number_format(value, decimal_pos=places, use_l10n=True)


def record_rate(*, actor: User, branch: Branch, to_currency: str, rate: Decimal) -> ConversionRate:
    """A treasurer of `branch` records what 1 unit of her branch's currency is worth in
    `to_currency` (major units), for members moving out of or into her branch. The
    reverse pair is recorded with it (1 / rate), so either branch's move finds it."""
    require(actor, Perm.MANAGE_DUES_PLAN, branch.pk)
    to_currency = to_currency.strip().upper()
    from_currency = branch.currency
    if to_currency == from_currency or len(to_currency) != 3 or not to_currency.isalpha():
        raise ValidationError(
            {"to_currency": _("Choose another branch's currency.")}, code="currency"
        )
    sign, digits, _exp = rate.as_tuple()
    if not rate.is_finite() or sign or rate == 0 or len(digits) > RATE_MAX_DIGITS:
        raise ValidationError(
            {"rate": _("Enter a rate above zero, with at most 12 digits.")}, code="rate"
        )
    numerator, denominator = rate.as_integer_ratio()
    with transaction.atomic():
        row = ConversionRate.objects.create(
            branch=branch,
            from_currency=from_currency,
            to_currency=to_currency,
            numerator=numerator,
            denominator=denominator,
            recorded_by=actor,
        )
        ConversionRate.objects.create(
            branch=branch,
            from_currency=to_currency,
            to_currency=from_currency,
            numerator=denominator,
            denominator=numerator,
            recorded_by=actor,
        )
        record_access(
            actor=actor,
            action=DuesAction.EXCHANGE_RATE,
            target=f"rate:{row.pk}",
            branch=branch,
        )
    return row


def convert(amount: int, *, from_currency: str, to_currency: str, rate: ConversionRate) -> int:
    """`amount` minor units of `from_currency` in minor units of `to_currency`: exact
    integer arithmetic, one rounding to the nearest unit, a half towards minus infinity
    (the member's way: a debt gets smaller, a credit bigger)."""
    shift = money.decimals(to_currency) - money.decimals(from_currency)
    numerator = amount * rate.numerator * 10 ** max(shift, 0)
    denominator = rate.denominator * 10 ** max(-shift, 0)
    whole, rest = divmod(numerator, denominator)
    return int(whole + 1 if 2 * rest > denominator else whole)


# --- what the move screen asks and shows ---------------------------------------------


@dataclass(frozen=True)
class OldAccount:
    branch: Branch
    balance: int  # minor units of branch.currency; positive = owed
    owed_since: date | None  # the oldest month still owed there
    waiting: int  # entries waiting for a second officer there


def old_account(member: Member, branch: Branch | None = None) -> OldAccount:
    """Her account in `branch` (default: the one she is in now, which she leaves)."""
    branch = branch or member.branch
    rows = LedgerEntry.objects.filter(member=member, branch=branch)
    balance = rows.filter(counts_q()).aggregate(total=Sum("amount"))["total"] or 0
    since = (
        open_charges()
        .filter(member=member, branch=branch)
        .aggregate(
            period=Min("period"),
            carried=Min("owed_since"),
        )
    )
    months = [d for d in (since["period"], since["carried"]) if d is not None]
    return OldAccount(
        branch=branch,
        balance=balance,
        owed_since=min(months) if months else None,
        waiting=rows.filter(awaiting_q()).count(),
    )


def move_fields(member: Member, to_branch: Branch) -> dict[str, forms.Field]:
    account = old_account(member)
    return {
        "closing": forms.ChoiceField(
            label=_("Her dues account in %(branch)s") % {"branch": account.branch.name},
            choices=Closing.choices,
            initial=Closing.SETTLED if account.balance == 0 else Closing.CARRIED,
            widget=forms.RadioSelect,
        ),
        "reason": forms.CharField(
            label=gettext_lazy("Reason for writing off"),
            required=False,
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
    }


def describe_move(member: Member, to_branch: Branch) -> list[str]:
    account = old_account(member)
    old, new = account.branch, to_branch
    lines = []
    amount = money.format_money(abs(account.balance), old.currency)
    if account.balance > 0:
        lines.append(
            _("Dues in %(branch)s: %(amount)s owed.") % {"branch": old.name, "amount": amount}
        )
    elif account.balance < 0:
        lines.append(
            _("Dues in %(branch)s: %(amount)s paid ahead.") % {"branch": old.name, "amount": amount}
        )
    else:
        lines.append(_("Dues in %(branch)s: nothing owed.") % {"branch": old.name})
    if account.waiting:
        lines.append(
            _(
                "A payment waits for a second officer in %(branch)s: it must be confirmed "
                "or corrected there before she can move."
            )
            % {"branch": old.name}
        )
    if account.balance and old.currency != new.currency:
        rate = latest_rate(old.currency, new.currency)
        if rate is None:
            lines.append(
                _(
                    "No exchange rate from %(old)s to %(new)s is recorded: a treasurer "
                    "records one under Dues, Exchange rates. Until then her account can "
                    "only be settled or written off."
                )
                % {"old": old.currency, "new": new.currency}
            )
        else:
            carried = convert(
                account.balance, from_currency=old.currency, to_currency=new.currency, rate=rate
            )
            lines.append(
                _("Rate recorded on %(date)s: 1 %(old)s = %(rate)s %(new)s. Carried: %(amount)s.")
                % {
                    "date": formats.date_format(rate.recorded_at, "SHORT_DATE_FORMAT"),
                    "old": old.currency,
                    "new": new.currency,
                    "rate": rate_display(rate),
                    "amount": money.format_money(abs(carried), new.currency),
                }
            )
    plan = DuesPlan.objects.filter(branch=new).first()
    if plan is None:
        lines.append(_("%(branch)s has no dues plan yet.") % {"branch": new.name})
    else:
        lines.append(
            _("In %(branch)s the monthly dues are %(amount)s.")
            % {"branch": new.name, "amount": money.format_money(plan.monthly_amount, new.currency)}
        )
    return lines


# --- the move itself -------------------------------------------------------------------


def close_and_open(move: MemberMove, answers: Mapping[str, Any], actor: User | None) -> None:
    """Close her account in move.from_branch and open it in move.to_branch (the core's
    move step; the member is locked and already in her new branch).

    Writes: a closing row in the old branch, an opening row in the new (when something is
    carried), the allocations that settle both sides, an AccountTransfer, one audit row per
    branch. May reinstate her (arrears written off) or lapse her (carried arrears beyond
    the new branch's grace months). Raises ValidationError, refusing the whole move, when
    the choice does not fit her account.
    """
    member = Member.objects.select_related("branch").get(pk=move.member_id)
    old, new = move.from_branch, move.to_branch
    closing = answers.get("closing") or Closing.SETTLED
    reason = str(answers.get("reason") or "").strip()
    if LedgerEntry.objects.filter(awaiting_q(), member=member, branch=old).exists():
        raise ValidationError(
            _(
                "A payment waits for a second officer in %(branch)s: it must be confirmed "
                "or corrected there before she can move."
            )
            % {"branch": old.name},
            code="waiting",
        )
    if CardSubscription.objects.filter(
        account__member=member, status=SubscriptionStatus.ACTIVE
    ).exists():
        raise ValidationError(
            _(
                "She pays her dues by card every month: she stops the card payment on her "
                "account page first (the new branch takes another currency)."
            ),
            code="card",
        )
    allocation.settle(member.pk)
    account = old_account(member, old)
    transfer = _close(
        move=move, account=account, closing=closing, reason=reason, actor=actor, member=member
    )
    allocation.settle(member.pk)
    for branch, action in ((old, DuesAction.MOVE_OUT), (new, DuesAction.MOVE_IN)):
        record_access(actor=actor, action=action, target=f"transfer:{transfer.pk}", branch=branch)
    sync_standing(member)


def _close(
    *,
    move: MemberMove,
    account: OldAccount,
    closing: str,
    reason: str,
    actor: User | None,
    member: Member,
) -> AccountTransfer:
    old, new = move.from_branch, move.to_branch
    balance = account.balance
    rate = None
    carried = 0
    if balance == 0:
        closing = Closing.SETTLED
    elif closing == Closing.SETTLED:
        raise ValidationError(
            {
                "closing": _(
                    "Her account in %(branch)s is not settled (%(amount)s %(what)s): carry it "
                    "to the new branch, write it off with a reason, or record the payment "
                    "there first."
                )
                % {
                    "branch": old.name,
                    "amount": money.format_money(abs(balance), old.currency),
                    "what": _("owed") if balance > 0 else _("paid ahead"),
                }
            },
            code="not_settled",
        )
    elif closing == Closing.WRITTEN_OFF:
        if balance < 0:
            raise ValidationError(
                {"closing": _("What she paid ahead is hers: carry it to the new branch.")},
                code="credit",
            )
        if not reason:
            raise ValidationError(
                {"reason": _("Give a reason for writing off what she owed.")}, code="reason"
            )
    elif closing == Closing.CARRIED:
        if old.currency != new.currency:
            rate = latest_rate(old.currency, new.currency)
            if rate is None:
                raise ValidationError(
                    {
                        "closing": _(
                            "No exchange rate from %(old)s to %(new)s is recorded: a treasurer "
                            "records one under Dues, Exchange rates."
                        )
                        % {"old": old.currency, "new": new.currency}
                    },
                    code="no_rate",
                )
            carried = convert(
                balance, from_currency=old.currency, to_currency=new.currency, rate=rate
            )
        else:
            carried = balance
    else:
        raise ValidationError({"closing": _("Choose how her dues account closes.")})
    closing_entry = opening_entry = None
    if balance:
        closing_entry = LedgerEntry.objects.create(
            member=member,
            branch=old,
            kind=EntryKind.CLOSING,
            amount=-balance,
            currency=old.currency,
            booked_on=money.local_today(old.time_zone),
            reason=reason if closing == Closing.WRITTEN_OFF else "",
            recorded_by=actor,
        )
    if carried:
        opening_entry = LedgerEntry.objects.create(
            member=member,
            branch=new,
            kind=EntryKind.OPENING,
            amount=carried,
            currency=new.currency,
            # Arrears keep their age; a debt with no month (a refund) ages from today.
            owed_since=(
                account.owed_since or money.month_start(money.local_today(new.time_zone))
                if carried > 0
                else None
            ),
            booked_on=money.local_today(new.time_zone),
            recorded_by=actor,
        )
    return AccountTransfer.objects.create(
        move=move,
        member=member,
        closing=closing,
        old_balance=balance,
        old_currency=old.currency,
        new_balance=carried,
        new_currency=new.currency,
        rate=rate,
        closing_entry=closing_entry,
        opening_entry=opening_entry,
        recorded_by=actor,
    )
