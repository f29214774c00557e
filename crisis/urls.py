from __future__ import annotations

from django.urls import path

from crisis.views import alerts, cases, figures, member, office, rota, webhooks

app_name = "crisis"

urlpatterns = [
    path("report/", member.report, name="report"),
    path("report/mine/", member.my_reports, name="my_reports"),
    path("alerts/", alerts.member_alerts, name="alerts"),
    path("office/", office.dashboard, name="dashboard"),
    path("office/new/", office.log_callout, name="log"),
    path("office/callouts/<uuid:public_id>/", office.callout_detail, name="detail"),
    path("office/callouts/<uuid:public_id>/answer/", office.answer, name="answer"),
    path("office/callouts/<uuid:public_id>/note/", office.add_note, name="note"),
    path("office/callouts/<uuid:public_id>/close/", office.close, name="close"),
    path("office/callouts/<uuid:public_id>/merge/", office.merge, name="merge"),
    path("office/callouts/<uuid:public_id>/unmerge/", office.unmerge, name="unmerge"),
    path("office/callouts/<uuid:public_id>/case/", cases.case_open, name="case_open"),
    path("office/callouts/<uuid:public_id>/share/", office.share, name="share"),
    path("office/shared/<uuid:public_id>/", office.share_summary, name="share_summary"),
    path("office/cases/", cases.case_list, name="cases"),
    path("office/cases/<uuid:public_id>/", cases.case_detail, name="case_detail"),
    path("office/rota/", rota.rota_view, name="rota"),
    path("office/rota/new/", rota.slot_add, name="slot_add"),
    path("office/rota/<int:pk>/swap/", rota.slot_swap, name="slot_swap"),
    path("office/rota/<int:pk>/end/", rota.slot_end, name="slot_end"),
    path(
        "office/responders/<uuid:public_id>/reachable/",
        rota.responder_reachable,
        name="reachable",
    ),
    path("office/settings/", rota.branch_settings, name="settings"),
    path("office/alerts/", alerts.office_alerts, name="office_alerts"),
    path("office/alerts/new/", alerts.alert_new, name="alert_new"),
    path("office/alerts/<uuid:public_id>/", alerts.alert_detail, name="alert_detail"),
    path("office/alerts/<uuid:public_id>/publish/", alerts.alert_publish, name="alert_publish"),
    path("office/alerts/<uuid:public_id>/withdraw/", alerts.alert_withdraw, name="alert_withdraw"),
    path("office/figures/", figures.figures_view, name="figures"),
    path("office/figures/export/", figures.figures_export, name="figures_export"),
    path("sms/at/<str:secret>/", webhooks.africastalking_inbound, name="sms_at"),
    path("sms/at/<str:secret>/delivery/", webhooks.africastalking_delivery, name="sms_at_delivery"),
    path("sms/twilio/", webhooks.twilio_inbound, name="sms_twilio"),
    path("sms/twilio/status/", webhooks.twilio_status, name="sms_twilio_status"),
]
