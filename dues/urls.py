from __future__ import annotations

from django.urls import include, path

from dues.views import counter, member, office, webhook

app_name = "dues"

urlpatterns = [
    path("my/", member.my_dues, name="my"),
    path("my/statement/", member.statement, name="statement"),
    path("my/card/", member.pay_by_card, name="pay_card"),
    path("my/card/cancel/", member.cancel_subscription, name="cancel_subscription"),
    path("receipts/<uuid:public_id>/", member.receipt, name="receipt"),
    path("office/", office.dashboard, name="dashboard"),
    path("office/members/", counter.find_member, name="find_member"),
    path("office/members/<uuid:public_id>/", counter.member_account, name="member_account"),
    path("office/members/<uuid:public_id>/pay/", counter.record_payment, name="record_payment"),
    path("office/members/<uuid:public_id>/waiver/", counter.grant_waiver, name="grant_waiver"),
    path("office/members/<uuid:public_id>/rate/", counter.set_rate, name="set_rate"),
    path("office/entries/<uuid:public_id>/confirm/", counter.confirm_entry, name="confirm"),
    path("office/entries/<uuid:public_id>/correct/", counter.reverse_entry, name="reverse"),
    path("office/ledger/", office.ledger_list, name="ledger"),
    path("office/arrears/", office.arrears_list, name="arrears"),
    path("office/cash-book/", office.cash_book, name="cashbook"),
    path("office/cash-book/close/", office.close_cash_book, name="cashbook_close"),
    path("office/plan/<str:code>/", office.plan, name="plan"),
    path("office/rates/<str:code>/", office.exchange_rates, name="exchange_rates"),
    path("office/export/", office.export, name="export"),
    path("office/card-events/", office.stripe_events, name="stripe_events"),
    path("stripe/webhook/", webhook.stripe_webhook, name="stripe_webhook"),
    path("", include("dues.welfare.urls")),
]
