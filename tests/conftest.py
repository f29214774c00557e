"""Shared personas. Each is a member of the Bamako branch (BKO) unless said otherwise.

- member: an active member with a login and no role; sees only their own account.
- secretary: BKO secretary; sees and manages BKO's register, applicants and roles.
- treasurer: BKO treasurer; sees BKO's register (names, numbers), no contact details.
- crisis_responder: BKO crisis responder; may register people met on outreach, nothing else.
- other_secretary: secretary of Ségou (SEG); sees nothing of BKO.
- ended_secretary: was BKO secretary until yesterday; has no office rights any more.
- national_coordinator: national role; sees every branch.
- applicant: someone who asked to join BKO from the public form; no number, no login.

Office personas have a confirmed TOTP device; `login(client, persona)` signs in and
passes the second factor, as a real officer would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import BranchFactory, MemberFactory
from union.celery import app as celery_app
from union.models import Branch, Member, RegistrationSource, Role, RoleAssignment
from union.notifications.sms import LocmemSmsBackend


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip tests marked vendor("postgresql") on SQLite, and the other way round."""
    from django.db import connection

    for item in items:
        marker = item.get_closest_marker("vendor")
        if marker is not None and marker.args[0] != connection.vendor:
            item.add_marker(pytest.mark.skip(reason=f"needs {marker.args[0]}"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """On SQLite (the embedded default) the test database is a file in SOLIDAIRE_VAR_DIR.

    Django would otherwise use a shared-cache in-memory database, where a second
    connection (a race test's thread) meets table locks that fail at once instead of the
    file database's write lock and busy timeout, which is what `make run` has.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"] == "django.db.backends.sqlite3" and not test.get("NAME"):
        test["NAME"] = str(settings.VAR_DIR / "test_solidaire.sqlite3")


@pytest.fixture(autouse=True)
def _test_environment(settings):
    settings.SMS_BACKEND = "union.notifications.sms.LocmemSmsBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    LocmemSmsBackend.outbox = []
    from union.notifications.sms import _backend

    _backend.cache_clear()
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in French leaves French active in the test's thread; the next test (a
    service call with no request) would otherwise speak French too."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher costs a third of a second a password; with a login on every
    # persona it would dominate the run. Tests of login behaviour do not depend on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def national(db) -> Branch:
    return BranchFactory(code="NAT", name="Coordination nationale", is_national=True)


@pytest.fixture
def bamako(db, national) -> Branch:
    return BranchFactory(code="BKO", name="Bamako", parent=national)


@pytest.fixture
def segou(db, national) -> Branch:
    return BranchFactory(code="SEG", name="Ségou", parent=national)


@pytest.fixture
def johannesburg(db, national) -> Branch:
    return BranchFactory(
        code="JHB",
        name="Johannesburg",
        parent=national,
        currency="ZAR",
        time_zone="Africa/Johannesburg",
        languages=["en"],
    )


def _officer(
    branch: Branch, role: str, *, ended: bool = False, scope: Branch | None = None
) -> Member:
    member = MemberFactory(branch=branch, with_login=True)
    today = timezone.localdate()
    RoleAssignment.objects.create(
        member=member,
        role=role,
        branch=scope or branch,
        starts_on=today - timedelta(days=60),
        ends_on=today - timedelta(days=1) if ended else None,
    )
    TOTPDevice.objects.create(user=member.user, name="test", confirmed=True)
    return member


@pytest.fixture
def member(bamako) -> Member:
    return MemberFactory(branch=bamako, with_login=True)


@pytest.fixture
def secretary(bamako) -> Member:
    return _officer(bamako, Role.SECRETARY)


@pytest.fixture
def treasurer(bamako) -> Member:
    return _officer(bamako, Role.TREASURER)


@pytest.fixture
def crisis_responder(bamako) -> Member:
    return _officer(bamako, Role.CRISIS_RESPONDER)


@pytest.fixture
def other_secretary(segou) -> Member:
    return _officer(segou, Role.SECRETARY)


@pytest.fixture
def ended_secretary(bamako) -> Member:
    return _officer(bamako, Role.SECRETARY, ended=True)


@pytest.fixture
def national_coordinator(bamako, national) -> Member:
    return _officer(bamako, Role.NATIONAL_COORDINATOR, scope=national)


@pytest.fixture
def applicant(bamako) -> Member:
    return MemberFactory(branch=bamako, applicant=True, source=RegistrationSource.PUBLIC)


def sign_in(client: Client, member: Member) -> Client:
    """Log the member in; office bearers also pass their second factor."""
    client.force_login(member.user)
    device = TOTPDevice.objects.filter(user=member.user, confirmed=True).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def login() -> Callable[[Client, Member], Client]:
    return sign_in


@pytest.fixture
def french(client: Client, settings) -> Iterator[Client]:
    """The test client asks for French through the language cookie, as the switcher sets it.

    While the French catalogue is not compiled (`manage.py compilemessages`), the test is
    reported as an expected failure instead of failing.
    """
    catalog = settings.BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.mo"
    if not catalog.exists():
        pytest.xfail(f"French catalogue missing: {catalog} (run manage.py compilemessages)")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    yield client
    # A request leaves its language active in this thread: the next test starts in English.
    translation.activate(settings.LANGUAGE_CODE)
