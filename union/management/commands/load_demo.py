"""Load a demo union (three branches, office bearers, ~200 members) and print the demo logins.

Safe to run again: existing data is kept and only the logins are printed.
"""

from __future__ import annotations

import base64
import random
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from union.models import NATIONAL_ROLES, Branch, ContactPreference, Member, Role, RoleAssignment
from union.services import branches as branch_services
from union.services import members as member_services
from union.services import roles as role_services

DEMO_PASSWORD = "demo-solidaire-2026"  # noqa: S105 - printed for the demo on purpose

BRANCHES = [
    # code, name, region, currency, time zone, languages
    ("BKO", "Bamako", "District de Bamako", "XOF", "Africa/Bamako", ["fr"]),
    ("SEG", "Ségou", "Région de Ségou", "XOF", "Africa/Bamako", ["fr"]),
    ("JHB", "Johannesburg", "Gauteng", "ZAR", "Africa/Johannesburg", ["en", "zu"]),
]
# The mobile-money operators each branch takes dues through.
OPERATORS = {"XOF": ["Orange Money", "Moov Money", "Wave"], "ZAR": ["MTN MoMo", "Vodacom M-Pesa"]}

# What the public may know: invented numbers and addresses, as a branch would give them.
PUBLIC_CONTACT = {
    "BKO": (
        "+223 20 22 00 00",
        "Hamdallaye ACI 2000, rue 311, porte 42",
        "Du lundi au vendredi, 9 h à 17 h",
    ),
    "SEG": ("+223 21 32 00 00", "Quartier Médine, près du marché", "Mardi et jeudi, 10 h à 16 h"),
    "JHB": ("0800 000 000", "12 Example Street, Hillbrow", "Monday to Saturday, 9:00 to 18:00"),
}

FIRST = {
    "fr": [
        "Awa",
        "Fanta",
        "Mariam",
        "Kadiatou",
        "Aminata",
        "Rokia",
        "Djeneba",
        "Oumou",
        "Salimata",
        "Hélène",
        "Bintou",
        "Assétou",
        "Nana",
        "Fatoumata",
        "Coumba",
        "Maïmouna",
        "Sitan",
        "Korotoumou",
        "Adja",
        "Églantine",
        "Chloé",
        "Inès",
        "Zoé",
        "Mamou",
    ],
    "en": [
        "Thandi",
        "Nomsa",
        "Lerato",
        "Zanele",
        "Busisiwe",
        "Precious",
        "Naledi",
        "Sipho",
        "Palesa",
        "Lindiwe",
        "Nokuthula",
        "Ayanda",
        "Mpho",
        "Themba",
        "Karabo",
        "Dineo",
        "Sokha",
        "Sreymom",
        "Dara",
        "Jess",
        "Candy",
        "Roxy",
        "Star",
        "Blessing",
    ],
}
SUFFIX = ["", "", "", " B.", " K.", " la Reine", " Star", " M.", " T.", " 2", " de Ségou", " N."]


def _name(rng: random.Random, lang: str, used: set[str]) -> str:
    while True:
        name = rng.choice(FIRST[lang]) + rng.choice(SUFFIX)
        if name not in used:
            used.add(name)
            return name


class Command(BaseCommand):
    help = "Load the demo union (idempotent) and print demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--members", type=int, default=200)

    def handle(self, *args: Any, members: int, **options: Any) -> None:
        if not Branch.objects.filter(code="BKO").exists():
            self._load(members)
            self.stdout.write(self.style.SUCCESS("Demo union loaded."))
        else:
            self.stdout.write("Demo union already present; nothing changed.")
        call_command("load_demo_votes", stdout=self.stdout)
        call_command("load_demo_dues", stdout=self.stdout)  # plans, charges, cash
        call_command("load_demo_crisis", stdout=self.stdout)  # rotas, call-outs
        call_command("load_demo_welfare", stdout=self.stdout)  # funds, committees, requests
        call_command("load_demo_cms", stdout=self.stdout)  # the public site, en and fr
        self._print_logins()

    @transaction.atomic
    def _load(self, count: int) -> None:
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        national, _ = Branch.objects.get_or_create(
            code="NAT",
            defaults={
                "name": "Coordination nationale",
                "is_national": True,
                "currency": "XOF",
                "time_zone": "Africa/Bamako",
                "languages": ["fr", "en"],
            },
        )
        branches = []
        for code, name, region, currency, tz, langs in BRANCHES:
            branch, _ = Branch.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "region": region,
                    "currency": currency,
                    "time_zone": tz,
                    "languages": langs,
                    "parent": national,
                    "mobile_money_providers": OPERATORS[currency],
                },
            )
            branches.append(branch)
            helpline, address, hours = PUBLIC_CONTACT[code]
            branch_services.set_public_contact(
                actor=None, branch=branch, helpline=helpline, address=address, hours=hours
            )
        used: set[str] = set()
        start = date.today() - timedelta(days=30)  # noqa: DTZ011 - a demo start date
        for branch in branches:
            lang = branch.languages[0]
            officers = [
                Role.SECRETARY,
                Role.TREASURER,
                Role.CRISIS_RESPONDER,
                Role.CRISIS_COORDINATOR,
                Role.WELFARE_COMMITTEE,
                Role.EDITOR,
            ]
            if branch.code == "BKO":
                officers += [Role.NATIONAL_COORDINATOR, Role.NATIONAL_BOARD]
            for role in officers:
                member = self._member(branch, _name(rng, lang, used), lang, rng)
                scope = national if role in NATIONAL_ROLES else branch
                role_services.assign_role(
                    actor=None, member=member, role=role, branch=scope, starts_on=start
                )
                self._login(member)
        per_branch = max(0, count - Member.objects.count()) // len(branches)
        for branch in branches:
            lang = branch.languages[0]
            for i in range(per_branch):
                member = self._member(branch, _name(rng, lang, used), lang, rng)
                if i == 0:
                    self._login(member)
            # A few applicants waiting in every branch.
            for _i in range(3):
                member_services.register_applicant(
                    actor=None,
                    branch=branch,
                    working_name=_name(rng, lang, used),
                    preferred_language=lang,
                    contact_preference=ContactPreference.NONE,
                    contact=member_services.ContactDetails(),
                )

    def _member(self, branch: Branch, name: str, lang: str, rng: random.Random) -> Member:
        applicant = member_services.register_applicant(
            actor=None,
            branch=branch,
            working_name=name,
            preferred_language=lang,
            contact_preference=ContactPreference.NONE,
            contact=member_services.ContactDetails(),
        )
        joined = date.today() - timedelta(days=rng.randint(30, 2000))  # noqa: DTZ011
        approval = member_services.approve_applicant(
            actor=None, member=applicant, create_login=False, joined_on=joined
        )
        return approval.member

    def _login(self, member: Member) -> None:
        user = get_user_model().objects.create_user(
            username=str(member.number), password=DEMO_PASSWORD
        )
        Member.objects.filter(pk=member.pk).update(user=user)

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write("Office bearers also need a 6-digit code from an authenticator app")
        self.stdout.write("set up with the key shown (or: oathtool --totp -b KEY).\n")
        roles = (
            RoleAssignment.objects.select_related("member", "branch", "member__user")
            .filter(member__user__isnull=False)
            .order_by("branch__code", "role")
        )
        for assignment in roles:
            user = assignment.member.user
            assert user is not None  # noqa: S101 - filtered on user__isnull=False
            device, _ = TOTPDevice.objects.get_or_create(
                user=user, name="demo", defaults={"confirmed": True}
            )
            key = base64.b32encode(device.bin_key).decode().rstrip("=")
            self.stdout.write(
                f"  {user.username:<12} {assignment.get_role_display():<26} "
                f"{assignment.branch.name:<24} key {key}"
            )
        members = Member.objects.filter(user__isnull=False, roles__isnull=True).order_by("number")
        for member in members:
            self.stdout.write(f"  {member.number:<12} {'Member':<26} {member.branch.name}")
        self.stdout.write("\nOpen http://127.0.0.1:8000/")
