"""Vote screens, included once at the root: members under votes/, officers under office/votes/."""

from __future__ import annotations

from django.urls import path

from votes import views

app_name = "votes"

urlpatterns = [
    path("votes/", views.vote_list, name="list"),
    path("votes/kiosk/", views.kiosk, name="kiosk"),
    path("votes/<uuid:public_id>/", views.vote_detail, name="detail"),
    path("votes/<uuid:public_id>/results/", views.vote_results, name="results"),
    path("votes/<uuid:public_id>/ballots/", views.vote_ballots, name="ballots"),
    path("votes/<uuid:public_id>/ballots.blt", views.vote_blt, name="blt"),
    path("votes/<uuid:public_id>/ballots.csv", views.vote_receipts_csv, name="receipts_csv"),
    path("votes/<uuid:public_id>/roles/", views.vote_confirm_roles, name="confirm_roles"),
    path("office/votes/", views.office_votes, name="office_list"),
    path("office/votes/new/", views.office_vote_new, name="office_new"),
    path("office/votes/<uuid:public_id>/", views.office_vote_detail, name="office_detail"),
    path("office/votes/<uuid:public_id>/voters/", views.office_vote_voters, name="office_voters"),
    path("office/votes/<uuid:public_id>/assembly/", views.office_assembly, name="office_assembly"),
]
