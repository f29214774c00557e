"""A member who has never held a role costs no roles lookup on their pages; the first role
counts at once, and the flag behind this only ever fails closed."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from union import permissions
from union.models import Member, Role
from union.services import roles


def _page(client) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("votes:list")).content.decode()
    sql = [q["sql"] for q in queries.captured_queries if "union_roleassignment" in q["sql"]]
    return page, sql


def test_no_roles_lookup_until_a_first_role_then_it_counts_at_once(client, login, member, bamako):
    login(client, member)
    page, lookups = _page(client)
    assert reverse("union:office") not in page
    assert lookups == []
    roles.assign_role(
        actor=None,
        member=member,
        role=Role.TREASURER,
        branch=bamako,
        starts_on=timezone.localdate(),
    )
    assert Member.objects.get(pk=member.pk).has_held_role
    page, lookups = _page(client)
    assert reverse("union:office") in page
    assert lookups


def test_an_ended_role_still_looks_roles_up_and_grants_nothing(secretary, national_coordinator):
    roles.end_role(actor=national_coordinator.user, assignment=secretary.roles.get())
    user = Member.objects.select_related("user").get(pk=secretary.pk).user
    assert user.member.has_held_role  # never unset
    assert permissions.current_roles(user) == []
