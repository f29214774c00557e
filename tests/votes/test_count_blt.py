"""manage.py count_blt: counts any BLT file, refuses malformed ones clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from votes.counting.blt import BltError, parse_blt, write_blt

DATA = Path(__file__).parent / "data"


def test_govan_prints_the_elected_in_order(capsys):
    call_command("count_blt", str(DATA / "govan-2007.blt"))
    assert capsys.readouterr().out.splitlines() == [
        "1. Allison Hunter",
        "2. John Flanagan",
        "3. Stephen Dornan",
        "4. Shaukat Butt",
    ]


def test_json_has_quota_elected_and_every_stage(capsys):
    call_command("count_blt", str(DATA / "govan-2007.blt"), "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["quota"] == 1913
    assert data["elected"][0]["name"] == "Allison Hunter"
    assert data["stages"][0]["kind"] == "first" and len(data["stages"]) >= 2


def test_irv_with_one_seat(capsys):
    call_command("count_blt", str(DATA / "govan-2007.blt"), "--seats", "1", "--method", "irv")
    assert capsys.readouterr().out.strip() == "1. Allison Hunter"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("3\n", "first line"),
        ('2 1\n1 1 1 0\n0\n"a"\n"b"\n', "ranked twice"),
        ('2 1\n1 3 0\n0\n"a"\n"b"\n', "no candidate number 3"),
        ('2 1\n1 1\n0\n"a"\n"b"\n', "ballot line"),
        ('2 1\n1 1 0\n"a"\n"b"\n', "whole numbers"),
        ('2 1\n1 1 0\n0\na\n"b"\n', "double quotes"),
        ('2 1\n1 1 0\n0\n"a"\n', "2 candidate names"),
    ],
)
def test_malformed_files_are_refused_with_the_line(tmp_path, text, problem):
    with pytest.raises(BltError, match=problem):
        parse_blt(text)
    path = tmp_path / "bad.blt"
    path.write_text(text)
    with pytest.raises(CommandError, match="not a valid BLT file"):
        call_command("count_blt", str(path))


def test_write_then_read_is_the_same_profile():
    profile = parse_blt((DATA / "govan-2007.blt").read_text())
    again = parse_blt(write_blt(profile))
    assert again.rankings == profile.rankings
    assert again.names == profile.names and again.title == profile.title
