"""factory_boy factories. Members are created active with a number unless told otherwise."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from union.crypto import keyed_hash
from union.models import Branch, Member, MemberStatus, RegistrationSource

PASSWORD = "correct-horse-battery-staple"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: "B" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))
    name = factory.LazyAttribute(lambda o: f"Branch {o.code}")
    currency = "XOF"
    time_zone = "Africa/Bamako"
    languages = ["fr"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    branch = factory.SubFactory(BranchFactory)
    working_name = factory.Sequence(lambda n: f"Awa {n}")
    status = MemberStatus.ACTIVE
    number = factory.LazyAttributeSequence(lambda o, n: f"{o.branch.code}-{n + 900000:06d}")
    joined_on = factory.LazyFunction(timezone.localdate)
    source = RegistrationSource.ASSISTED
    phone = ""  # E.164; the keyed hash below follows it
    phone_hash = factory.LazyAttribute(lambda o: keyed_hash(o.phone) if o.phone else None)

    class Params:
        applicant = factory.Trait(status=MemberStatus.APPLICANT, number=None, joined_on=None)
        with_login = factory.Trait(
            user=factory.SubFactory(UserFactory, username=factory.SelfAttribute("..number"))
        )
