"""Vote screens, included once at the root: members under votes/, officers under office/votes/."""

from __future__ import annotations

from django.urls import path

from votes.views import assembly, ballot, office, published, tellers

app_name = "votes"

urlpatterns = [
    path("votes/", ballot.vote_list, name="list"),
    path("votes/kiosk/", assembly.kiosk, name="kiosk"),
    path("votes/secrecy/", tellers.secrecy, name="secrecy"),
    path("votes/<uuid:public_id>/", ballot.vote_detail, name="detail"),
    path("votes/<uuid:public_id>/results/", published.vote_results, name="results"),
    path("votes/<uuid:public_id>/ballots/", published.vote_ballots, name="ballots"),
    path("votes/<uuid:public_id>/ballots.blt", published.vote_blt, name="blt"),
    path("votes/<uuid:public_id>/ballots.csv", published.vote_receipts_csv, name="receipts_csv"),
    path("votes/<uuid:public_id>/roles/", published.vote_confirm_roles, name="confirm_roles"),
    path("votes/<uuid:public_id>/key-sheet/", tellers.key_sheet, name="key_sheet"),
    path("office/votes/", office.office_votes, name="office_list"),
    path("office/votes/new/", office.office_vote_new, name="office_new"),
    path("office/votes/<uuid:public_id>/", office.office_vote_detail, name="office_detail"),
    path("office/votes/<uuid:public_id>/voters/", office.office_vote_voters, name="office_voters"),
    path(
        "office/votes/<uuid:public_id>/assembly/",
        assembly.office_assembly,
        name="office_assembly",
    ),
    path(
        "office/votes/<uuid:public_id>/open-box/",
        tellers.office_open_box,
        name="office_open_box",
    ),
]
