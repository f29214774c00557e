"""Count any BLT ballot file: `manage.py count_blt FILE [--seats N] [--method ...] [--json]`.

Prints the elected candidates in order of election; with --json, the whole count
(elected, quota, every stage). Nothing is read from or written to the database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from votes.counting.blt import BltError, parse_blt
from votes.counting.irv import count_irv
from votes.counting.stv import count_stv


class Command(BaseCommand):
    help = "Count a BLT ballot file with Scottish STV (or IRV) and print who is elected."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the BLT file ('-' reads standard input)")
        parser.add_argument("--seats", type=int, help="seats to fill (default: from the file)")
        parser.add_argument(
            "--method",
            choices=["auto", "scottish-stv", "irv"],
            default="auto",
            help="auto: IRV for one seat, Scottish STV for more (as Solidaire counts)",
        )
        parser.add_argument("--seed", help="seed for drawing lots (default: the file's title)")
        parser.add_argument("--json", action="store_true", help="print the full count as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        try:
            text = (
                self.stdin.read()
                if name == "-" and hasattr(self, "stdin")
                else Path(name).read_text(encoding="utf-8")
            )
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": name, "error": exc}
            ) from None
        try:
            profile = parse_blt(text)
        except BltError as exc:
            raise CommandError(
                _("This is not a valid BLT file (line %(line)s): %(problem)s")
                % {"line": exc.line, "problem": exc.problem}
            ) from None
        if options["seats"] is not None:
            if not 1 <= options["seats"] <= profile.candidates:
                raise CommandError(_("--seats must be between 1 and the number of candidates."))
            profile.seats = options["seats"]
        method = options["method"]
        if method == "auto":
            method = "irv" if profile.seats == 1 else "scottish-stv"
        if method == "irv" and profile.seats != 1:
            raise CommandError(_("IRV fills one seat; use --seats 1 or scottish-stv."))
        counter = count_irv if method == "irv" else count_stv
        result = counter(profile, seed=options["seed"])
        if options["json"]:
            self.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
            return
        for place, candidate in enumerate(result.elected, start=1):
            self.stdout.write(f"{place}. {result.name(candidate)}")
