"""`make restore-drill`: back up as docs/deploy.md says, destroy, restore, check.

    .venv/bin/python -m tests.stage.restore          # ~4 minutes

1. A stage's database (through pgbouncer, as deployed) with the demo union (members,
   dues ledger, votes with ballots, the public site, audit rows) and a few members whose
   legal names, phones and notes are known, so that they can be read back.
2. Backup, the documented commands: `pg_dump --format=custom`, a tar of MEDIA_ROOT, and
   the keys (FIELD_ENCRYPTION_KEYS, FIELD_HASH_KEY, SECRET_KEY) written to a folder of
   their own, apart from the dump.
3. Destroy: PostgreSQL stopped, its whole data directory and the media deleted.
4. Restore into a fresh cluster (initdb, createuser, createdb, `pg_restore`), the media
   from the tar, the settings with the kept keys.
5. Check: every table's rows identical (count and checksum of each), ledger sums per
   currency, audit rows, votes and ballots, encrypted fields decrypted with the kept keys
   (and a member found again by phone number through the keyed hash), the append-only
   triggers present and refusing an UPDATE and a DELETE, no migration missing. And that
   the dump is useless without the keys: another key cannot read a single field.

Prints each figure before and after. Exit status 1 if anything differs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from tests.stage.cluster import HOST, REPO, Stage, log, pg_bindir

KNOWN = [
    # number, legal name, phone, notes
    ("BKO-RST01", "Aminata Restauration", "+22370990001", "Appeler après 18 h"),
    ("BKO-RST02", "Fanta Sauvegarde", "+22370990002", "Préfère les textos"),
    ("BKO-RST03", "Thandi Backup", "+22370990003", "Outreach contact, Hillbrow"),
]


def _django() -> None:
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def add_known_members() -> dict[str, Any]:
    from datetime import date

    from union.models import Branch, Member, MemberStatus, RegistrationSource
    from union.services.members import _phone_hash

    branch = Branch.objects.get(code="BKO")
    for number, legal, phone, notes in KNOWN:
        Member.objects.create(
            branch=branch,
            number=number,
            working_name=f"Restore {number}",
            legal_name=legal,
            phone=phone,
            phone_hash=_phone_hash(phone),
            notes=notes,
            status=MemberStatus.ACTIVE,
            joined_on=date(2025, 1, 1),
            source=RegistrationSource.IMPORT,
        )
    return {"added": len(KNOWN)}


def fingerprint() -> dict[str, Any]:
    """What must come back, read through Django with the configured keys."""
    from django.db import connection
    from django.db.models import Count, Sum

    from dues.models import LedgerEntry
    from union.models import AuditEvent, Member, MemberStatusChange, Notification
    from union.services.members import _phone_hash
    from votes.models import Ballot, SealedBallot, TallyEntry, Vote, VoteMark

    digest = hashlib.sha256()
    encrypted = 0
    for member in Member.objects.order_by("pk").only("pk", "legal_name", "phone", "email", "notes"):
        for value in (member.legal_name, member.phone, member.email, member.notes):
            digest.update(value.encode() + b"\0")
            encrypted += bool(value)
    for change in MemberStatusChange.objects.order_by("pk").only("pk", "reason"):
        digest.update(change.reason.encode() + b"\0")
    for note in Notification.objects.order_by("pk").only("pk", "subject", "body"):
        digest.update(note.subject.encode() + b"\0" + note.body.encode() + b"\0")
    found = {}
    for number, legal, phone, notes in KNOWN:
        member = Member.objects.filter(phone_hash=_phone_hash(phone)).first()
        found[number] = (
            bool(member and member.number == number and member.legal_name == legal)
            and member is not None
            and member.notes == notes
        )
    tables = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"  # noqa: S608
                f' FROM "{table}" t'
            )
            count, checksum = cursor.fetchone()
            tables[table] = [count, checksum]
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal ORDER BY 1, 2"
        )
        triggers = [f"{table}.{name}" for table, name in cursor.fetchall()]
    ledger = {
        row["currency"]: [row["total"], row["rows"]]
        for row in LedgerEntry.objects.values("currency").annotate(
            total=Sum("amount"), rows=Count("id")
        )
    }
    return {
        "ledger_sum_by_currency": ledger,
        "audit_rows": AuditEvent.objects.count(),
        "votes": Vote.objects.count(),
        "ballots": Ballot.objects.count(),
        "sealed_ballots": SealedBallot.objects.count(),
        "vote_marks": VoteMark.objects.count(),
        "tally_entries": TallyEntry.objects.count(),
        "encrypted_values": encrypted,
        "decrypted_sha256": digest.hexdigest(),
        "known_members_found_by_phone": found,
        "triggers": triggers,
        "tables": tables,
    }


class _Undo(Exception):
    pass


def refusals() -> dict[str, str]:
    """The append-only triggers at work: an UPDATE and a DELETE, each refused."""
    from django.db import DatabaseError, connection, transaction

    out = {}
    for table, statement in (
        ("union_auditevent", "UPDATE union_auditevent SET action = action"),
        ("dues_ledgerentry", "DELETE FROM dues_ledgerentry"),
        ("union_memberstatuschange", "UPDATE union_memberstatuschange SET reason = reason"),
    ):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
                out[table] = "ALLOWED"
                raise _Undo  # even then, change nothing
        except _Undo:
            pass
        except DatabaseError as exc:
            out[table] = "refused: " + str(exc).splitlines()[0][:80]
    return out


def _run(stage: Stage, what: str, **env: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.stage.restore", f"--inside={what}"],
        cwd=REPO,
        env=stage.node_env("admin", **env),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def drill(keep: bool) -> int:
    with Stage.start(demo=True, apps=False, keep=keep) as stage:
        _run(stage, "add")
        before = _run(stage, "fingerprint")
        if "error" in before:
            print(f"fingerprint failed: {before['error']}")
            return 1

        # --- backup (docs/deploy.md, "Backups") ---------------------------------------
        backups = stage.root / "backups"
        keys = stage.root / "keys-kept-apart"
        for folder in (backups, keys):
            folder.mkdir(mode=0o700)
        dump = backups / "solidaire.dump"
        started = time.monotonic()
        with dump.open("wb") as out:
            subprocess.run(
                [*stage.as_pg, str(pg_bindir() / "pg_dump"), "--format=custom",
                 "-h", HOST, "-p", str(stage.pg_port), "-U", "postgres", "solidaire"],
                stdout=out, check=True, timeout=600, cwd=stage.root,
            )  # fmt: skip
        media = Path(stage.env["MEDIA_ROOT"])
        with tarfile.open(backups / "media.tar.gz", "w:gz") as tar:
            tar.add(media, arcname="media")
        kept = {k: stage.env[k] for k in ("FIELD_ENCRYPTION_KEYS", "FIELD_HASH_KEY", "SECRET_KEY")}
        (keys / "keys.env").write_text("".join(f"{k}={v}\n" for k, v in kept.items()))
        log(
            f"backup: {dump.stat().st_size / 1e6:.1f} MB dump, media tar "
            f"{(backups / 'media.tar.gz').stat().st_size / 1e6:.1f} MB, "
            f"in {time.monotonic() - started:.1f} s; keys in {keys.name}/"
        )

        # --- destroy ----------------------------------------------------------------
        stage.stop_process("pgbouncer")
        stage.stop_postgres()
        shutil.rmtree(stage.root / "pgdata")
        shutil.rmtree(media)
        for key in kept:
            stage.env[key] = "gone"  # the running settings are lost with the machine
        log("destroyed: the cluster's data directory, the media, the settings")

        # --- restore into a fresh cluster --------------------------------------------
        started = time.monotonic()
        stage.create_cluster()
        with dump.open("rb") as backup:  # on stdin: the dump stays readable by root only
            restored = subprocess.run(
                [*stage.as_pg, str(pg_bindir() / "pg_restore"), "--exit-on-error",
                 "-h", HOST, "-p", str(stage.pg_port), "-U", "postgres", "--dbname=solidaire"],
                stdin=backup, timeout=900, cwd=stage.root, capture_output=True, text=True,
            )  # fmt: skip
        if restored.returncode:
            raise RuntimeError(f"pg_restore failed:\n{restored.stderr[-2000:]}")
        media.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(backups / "media.tar.gz") as tar:
            tar.extractall(media.parent, filter="data")
        stage.start_process("pgbouncer")
        for line in (keys / "keys.env").read_text().splitlines():
            key, value = line.split("=", 1)
            stage.env[key] = value
        log(f"restored into a fresh cluster in {time.monotonic() - started:.1f} s")

        after = _run(stage, "fingerprint")
        denied = _run(stage, "refusals")
        missing = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=REPO, env=stage.node_env("admin"), capture_output=True, timeout=300,
        ).returncode  # fmt: skip
        wrong_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        other = _run(stage, "fingerprint", FIELD_ENCRYPTION_KEYS=wrong_key)

    return report(before, after, denied, missing, other)


def report(
    before: dict[str, Any],
    after: dict[str, Any],
    denied: dict[str, str],
    missing: int,
    other: dict[str, Any],
) -> int:
    if "error" in after:
        print(f"after the restore, reading failed: {after['error']}")
        return 1
    problems = []
    print("\n== Restore drill: backup, destroy, restore into a fresh cluster ==")
    for key in (
        "ledger_sum_by_currency",
        "audit_rows",
        "votes",
        "ballots",
        "sealed_ballots",
        "vote_marks",
        "tally_entries",
        "encrypted_values",
        "decrypted_sha256",
        "known_members_found_by_phone",
    ):
        same = before[key] == after[key]
        problems += [] if same else [key]
        print(
            f"   {key}: before {before[key]}  after {after[key]}  {'same' if same else 'DIFFERENT'}"
        )
    differing = [t for t in before["tables"] if before["tables"][t] != after["tables"].get(t)]
    rows = sum(count for count, _ in before["tables"].values())
    print(
        f"   every table: {len(before['tables'])} tables, {rows:,} rows; "
        f"identical after restore: {len(before['tables']) - len(differing)}"
        + (f" (different: {', '.join(differing)})" if differing else "")
    )
    problems += differing
    append_only = [t for t in after["triggers"] if t.endswith("_append_only")]
    same_triggers = before["triggers"] == after["triggers"]
    print(
        f"   triggers: {len(after['triggers'])} after ({len(append_only)} append-only), "
        f"{'same as before' if same_triggers else 'DIFFERENT'}"
    )
    for table, outcome in denied.items():
        print(f"   {table}: {outcome}")
        if not outcome.startswith("refused"):
            problems.append(f"{table} writable")
    problems += [] if same_triggers and append_only else ["triggers"]
    print(f"   migrations all applied: {'yes' if missing == 0 else 'NO'}")
    problems += [] if missing == 0 else ["migrations"]
    without_keys = "error" in other
    print(
        "   with another FIELD_ENCRYPTION_KEYS the same restore reads: "
        + (f"nothing ({other['error'][:90]})" if without_keys else "the data (WRONG)")
    )
    problems += [] if without_keys else ["readable without the keys"]
    verdict = "1 passed, 0 failed" if not problems else "0 passed, 1 failed: " + ", ".join(problems)
    print(f"\n{verdict}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stage.restore")
    parser.add_argument("--inside", choices=["add", "fingerprint", "refusals"])
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.inside:
        _django()
        result = {"add": add_known_members, "fingerprint": fingerprint, "refusals": refusals}[
            args.inside
        ]()
        print(json.dumps(result, default=str))
        return 0
    return drill(args.keep)


if __name__ == "__main__":
    sys.exit(main())
