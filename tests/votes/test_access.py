"""Who may open which vote screen: the access matrix of votes/ (see tests/access.py).

The screens are about a Bamako (BKO) election made by the BKO secretary (teller 1):
open for the ballot and the office screens, counted and published for the results, the
list of ballots and the files. Personas are tests/conftest.py's.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import access
from tests.votes.conftest import count_now
from union.models import RoleAssignment
from votes.models import SealedBallot, Vote

pytestmark = pytest.mark.django_db

MATRIX = """
url              anon   member  secretary  treasurer  crisis  other_sec  ended  national
list             login  ok      ok         ok         ok      ok         ok     ok
secrecy          ok     ok      ok         ok         ok      ok         ok     ok
detail           login  ok      ok         ok         ok      404        ok     ok
results          login  ok      ok         ok         ok      404        ok     ok
ballots          login  ok      ok         ok         ok      404        ok     ok
blt              login  ok      ok         ok         ok      404        ok     ok
receipts_csv     login  ok      ok         ok         ok      404        ok     ok
confirm_roles    login  told    ok         told       told    404        told   ok
key_sheet        login  404     ok         404        404     404        404    404
kiosk            login  403     ok         ok         403     ok         403    ok
office_list      login  403     ok         ok         403     ok         403    ok
office_new       login  403     ok         403        403     ok         403    ok
office_detail    login  403     ok         403        403     404        403    ok
office_voters    login  403     ok         403        403     404        403    ok
office_assembly  login  403     ok         ok         403     404        403    ok
office_open_box  login  403     ok         403        403     404        403    ok
"""
# Ballots, results and files of a published vote are for the members of the branch (and
# the national level); another branch's officer does not see that the vote exists. The key
# sheet is only a teller's (the secretary is teller 1). The treasurer runs assemblies
# (checks members in) but does not make votes. Confirming the elected in their roles takes
# a POST from an officer who may assign roles; anyone else of the branch is told no.
ADDRESSES = [f"votes:{name}" for name in access.row_names(MATRIX)]

PERSONAS = {
    "anon": None,
    "member": "member",
    "secretary": "secretary",
    "treasurer": "treasurer",
    "crisis": "crisis_responder",
    "other_sec": "other_secretary",
    "ended": "ended_secretary",
    "national": "national_coordinator",
}
COUNTED = ("results", "ballots", "blt", "receipts_csv", "confirm_roles")


@pytest.fixture
def everyone(request) -> dict:
    return {
        persona: None if fixture is None else request.getfixturevalue(fixture)
        for persona, fixture in PERSONAS.items()
    }


@pytest.mark.parametrize(("url_name", "expected"), access.rows(MATRIX, PERSONAS))
def test_access(make_vote, everyone, url_name, expected):
    vote = make_vote()
    if url_name in COUNTED:
        count_now(vote)
    args = (
        []
        if url_name in ("list", "secrecy", "kiosk", "office_list", "office_new")
        else [vote.public_id]
    )

    def vote_state() -> tuple:
        fresh = Vote.objects.get(pk=vote.pk)
        roles = RoleAssignment.objects.count()
        return (fresh.status, SealedBallot.objects.count(), fresh.tellers.count(), roles)

    mismatches = access.check_row(
        everyone,
        expected,
        url=reverse(f"votes:{url_name}", args=args),
        method="post" if url_name == "confirm_roles" else "get",
        unchanged=vote_state,
    )
    assert not mismatches, mismatches


@pytest.mark.parametrize(("url_name", "persona"), access.first_allowed(MATRIX, PERSONAS))
def test_bad_input_on_any_vote_screen_gets_an_answer_not_a_crash(
    client, login, request, make_vote, url_name, persona
):
    vote = make_vote()
    if url_name in COUNTED:
        count_now(vote)
    fixture = PERSONAS[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    args = (
        []
        if url_name in ("list", "secrecy", "kiosk", "office_list", "office_new")
        else [vote.public_id]
    )
    access.send_garbage(
        client,
        reverse(f"votes:{url_name}", args=args),
        ("choice", "choices", "rank_1", "rank_2", "receipt", "code", "teller_1", "teller_2"),
    )
