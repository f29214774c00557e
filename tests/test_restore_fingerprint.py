"""The restore drill's reading of the database (tests/stage/restore.py) against the
current models. The drill runs only in a staged cluster, so a model that moved (votes/
left union/) would otherwise first show there, as a drill that can read nothing."""

from __future__ import annotations

import pytest

from tests.stage import restore


@pytest.mark.vendor("postgresql")
def test_the_restore_drill_reads_every_table_and_finds_the_known_members(bamako):
    restore.add_known_members()

    found = restore.fingerprint()

    assert found["known_members_found_by_phone"] == {number: True for number, *_ in restore.KNOWN}
    assert found["encrypted_values"] >= 3 * len(restore.KNOWN)
    assert {"dues_ledgerentry", "votes_sealedballot", "union_auditevent"} <= set(found["tables"])
    assert "union_auditevent.union_auditevent_append_only" in found["triggers"]
