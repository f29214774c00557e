"""Synthetic registers for the benchmarks: branches, officers, and register files.

Names mix French/Malian, Khmer and Zulu working names; phones are unique and valid for
the branch's country. Nothing here is real personal data.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from union.models import Branch, Member, MemberStatus, RegistrationSource, RoleAssignment
from union.resources import REGISTER_COLUMNS

BRANCHES = [
    # code, name, share of the members (Bamako is the big one)
    ("BKO", "Bamako", 0.40),
    ("SEG", "Ségou", 0.15),
    ("MPT", "Mopti", 0.12),
    ("SKS", "Sikasso", 0.13),
    ("KYS", "Kayes", 0.12),
    ("GAO", "Gao", 0.08),
]
FIRST = [
    "Aminata",
    "Fatoumata",
    "Awa",
    "Mariam",
    "Kadiatou",
    "Oumou",
    "Salimata",
    "Hawa",
    "Aïssata",
    "Djénéba",
    "Hélène",
    "Bintou",
    "Rokia",
    "Assétou",
    "Nana",
    "Fanta",
    "សុខា",
    "ស្រីមុំ",
    "ចាន់ធា",
    "សុភា",
    "Nomvula",
    "Thandeka",
    "Zanele",
    "Lindiwe",
    "Nokuthula",
    "Sibongile",
    "Ayanda",
    "Precious",
    "Sreymom",
    "Chantha",
]
SECOND = [
    "Traoré",
    "Diarra",
    "Coulibaly",
    "Keïta",
    "Konaté",
    "Sangaré",
    "Diallo",
    "Touré",
    "Dlamini",
    "Ngcobo",
    "Zulu",
    "Mthembu",
    "សុខ",
    "ចាន់",
    "Kéita",
    "Maïga",
]
NOTES = [
    "Vue au centre le mardi",
    "Needs court support follow-up",
    "Contact via la paire éducatrice",
    "Préfère être appelée le soir",
]


@dataclass(frozen=True)
class Profile:
    """How full the contact columns are: share of rows with each field filled."""

    name: str
    phone: float
    legal_name: float
    email: float
    notes: float


PROFILES = {
    # A register as branches keep them: most have a phone, few give a legal name or email.
    "typical": Profile("typical", phone=0.7, legal_name=0.3, email=0.1, notes=0.15),
    # The worst case for per-row costs: every sensitive field filled on every row.
    "full": Profile("full", phone=1.0, legal_name=1.0, email=1.0, notes=1.0),
}


def make_branches() -> list[Branch]:
    national = Branch.objects.create(code="NAT", name="Coordination nationale", is_national=True)
    return [
        Branch.objects.create(
            code=code, name=name, parent=national, currency="XOF", languages=["fr"]
        )
        for code, name, _share in BRANCHES
    ]


def make_officer(*, branch: Branch, role: str, scope: Branch, number: str) -> Member:
    """An officer with a login and a confirmed TOTP device (the second factor)."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.create(username=number)
    member = Member.objects.create(
        branch=branch,
        number=number,
        working_name=f"Officer {number}",
        status=MemberStatus.ACTIVE,
        joined_on=timezone.localdate(),
        source=RegistrationSource.ASSISTED,
        user=user,
    )
    RoleAssignment.objects.create(
        member=member, role=role, branch=scope, starts_on=timezone.localdate() - timedelta(days=30)
    )
    TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return member


def _branch_for(rng: random.Random) -> str:
    pick = rng.random()
    total = 0.0
    for code, _name, share in BRANCHES:
        total += share
        if pick < total:
            return code
    return BRANCHES[-1][0]


def register_csv(*, rows: int, first_seq: int, profile: Profile, seed: int) -> bytes:
    """A register file in the project's own columns, every row with a new membership number.

    Numbers run from first_seq in each branch's format; phones are unique across files made
    with different first_seq values.
    """
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REGISTER_COLUMNS)
    statuses = [MemberStatus.ACTIVE] * 8 + [MemberStatus.LAPSED, MemberStatus.SUSPENDED]
    start = date(2008, 1, 1)
    for i in range(rows):
        seq = first_seq + i
        code = _branch_for(rng)
        working_name = f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
        phone = ""
        if rng.random() < profile.phone:
            # Mali mobile numbers: 8 digits starting 6 or 7; written the way people write them.
            digits = f"{60000000 + seq:08d}"
            phone = (
                f"+223{digits}"
                if i % 3 == 0
                else f"{digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
            )
        writer.writerow(
            [
                f"{code}-{seq:06d}",
                working_name,
                code,
                rng.choice(statuses),
                (start + timedelta(days=rng.randrange(6000))).isoformat(),
                f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
                if rng.random() < profile.legal_name
                else "",
                phone,
                f"member{seq}@example.org" if rng.random() < profile.email else "",
                "fr" if rng.random() < 0.8 else "en",
                "sms" if phone else "none",
                "1" if phone and rng.random() < 0.6 else "0",
                "1" if rng.random() < 0.5 else "0",
                rng.choice(NOTES) if rng.random() < profile.notes else "",
            ]
        )
    return out.getvalue().encode()
