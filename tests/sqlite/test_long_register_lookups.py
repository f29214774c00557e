"""A register longer than one lookup finds its members wherever they are in the file.

On SQLite the import looks members up LOOKUP_CHUNK numbers at a time (a statement takes
a limited number of parameters, 32 766 in a stock SQLite); PostgreSQL takes them all in
one array. The preview must recognise members in every chunk. Runs on both databases.
"""

from __future__ import annotations

import pytest

from tests.factories import MemberFactory
from union.imports.checks import LOOKUP_CHUNK
from union.services.imports import preview_register_import

pytestmark = [pytest.mark.embedded, pytest.mark.django_db]


def test_members_in_every_chunk_of_a_long_register_are_found(secretary, bamako):
    rows = LOOKUP_CHUNK + 100
    early = MemberFactory(branch=bamako, number="BKO-000002")
    late = MemberFactory(branch=bamako, number=f"BKO-{rows:06d}")  # in the second chunk
    lines = [f"BKO-{n:06d},Person {n},BKO" for n in range(1, rows + 1)]
    data = "\n".join(["number,working_name,branch", *lines]).encode()

    plan = preview_register_import(actor=secretary.user, data=data, filename="register.csv")

    assert not plan.error_rows
    assert (plan.updates, plan.creates) == (2, rows - 2)
    matched = {row.number: row.member_id for row in plan.valid_rows if row.member_id}
    assert matched == {early.number: early.pk, late.number: late.pk}
