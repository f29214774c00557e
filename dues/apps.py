from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DuesConfig(AppConfig):
    name = "dues"
    verbose_name = _("Dues")

    def ready(self) -> None:
        from celery.schedules import crontab

        from cms import statistics
        from dues import messages, personal_data, selectors
        from dues.audit import DuesAction
        from dues.services import moves
        from dues.welfare import messages as welfare_messages
        from dues.welfare import transparency
        from dues.welfare.audit import WelfareAction
        from union import registry
        from union.permissions import Perm

        registry.register_audit_actions(DuesAction.choices)
        registry.register_audit_actions(WelfareAction.choices)
        messages.register()
        welfare_messages.register()
        # The public site may show what the welfare funds paid (rounded, never small).
        statistics.register(
            "welfare_paid", label=_("paid out in welfare"), provider=transparency.paid_figure
        )
        statistics.register(
            "welfare_payouts",
            label=_("welfare payments made"),
            provider=transparency.payouts_figure,
        )
        # Who may vote, and whatever else asks the core who is in good standing.
        registry.register_standing_rule(selectors.members_in_good_standing)
        registry.register_standing_display(
            choices=selectors.Standing.choices,
            annotate=selectors.with_standing,
            describe=selectors.describe_position,
        )
        registry.register_office_queue(
            "dues.confirmations",
            label=_("Payments to confirm"),
            count=selectors.count_to_confirm,
            url_name="dues:dashboard",
            perm=Perm.CONFIRM_PAYMENT,
        )
        # A member forgotten at her request; a member's copy of what the union holds.
        registry.register_erasure_hook(personal_data.erase_reasons)
        registry.register_personal_data(personal_data.her_dues)
        # A member who moves branch: her account closes in the old one, opens in the new.
        registry.register_move_step(
            registry.MoveStep(
                name=moves.STEP,
                fields=moves.move_fields,
                describe=moves.describe_move,
                apply=moves.close_and_open,
            )
        )
        # Supporting documents are files encrypted under the field keys: rotated with them.
        from dues.welfare import documents

        registry.register_file_rotator("welfare documents", documents.rotate_stored)
        # Hourly, because each branch's 1st of the month starts at its own midnight.
        registry.register_periodic_job(
            "dues-monthly-run", task="dues.tasks.run_monthly_dues", schedule=crontab(minute=7)
        )
        registry.register_periodic_job(
            "dues-retry-stripe-events",
            task="dues.tasks.retry_stuck_stripe_events",
            schedule=crontab(minute="*"),
        )
        # After every branch's midnight (UTC-12 to UTC+14), so "yesterday" is over everywhere.
        registry.register_periodic_job(
            "welfare-reconcile-payouts",
            task="dues.tasks.reconcile_welfare_payouts",
            schedule=crontab(hour=14, minute=41),
        )
        registry.register_periodic_job(
            "dues-reconcile-stripe",
            task="dues.tasks.reconcile_stripe",
            schedule=crontab(hour=3, minute=17),
        )
