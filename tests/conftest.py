import json
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import PartnerApiKey, User
from accounts.throttles import CountingThrottle
from backend.celery import app as celery_app
from buyers.models import Membership
from tests.factories import (
    BuyerOrganisationFactory,
    CooperativeFactory,
    MembershipFactory,
    StoreFactory,
    UserFactory,
)
from tests.languages import (  # noqa: F401 (the language walk: fixture and hooks)
    pytest_generate_tests,
    pytest_sessionfinish,
    request_language,
)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache (Redis in CI): start every test from zero. Only
    this project's keys are removed, never the whole Redis database."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        pattern = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:*"
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _one_login_window(monkeypatch):
    """Login limits count per fixed window of their period (accounts/throttles.py): a test's
    attempts must not straddle two windows, or the limit lets up to twice as many through (a
    run once failed so, logging in at 18:03:00.01). One clock reading for the whole test."""
    now = time.time()
    monkeypatch.setattr(CountingThrottle, "timer", lambda self: now)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2 costs ~0.4 s per password (every UserFactory user, every login attempt); tests
    check who may log in, not the hasher's strength. Hashes are still salted and verified."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def anon():
    return APIClient()


def client_for(user: User) -> APIClient:
    """An API client that signs in the way a phone does: a real bearer token."""
    _token, plain = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    client.user = user
    return client


@pytest.fixture
def staff_user(db):
    return UserFactory(role=User.Role.STAFF, is_staff=True, is_superuser=True)


@pytest.fixture
def cooperative(db):
    return CooperativeFactory()


@pytest.fixture
def other_cooperative(db):
    return CooperativeFactory()


@pytest.fixture
def manager_user(cooperative):
    user = UserFactory(role=User.Role.COOPERATIVE_MANAGER)
    cooperative.managers.add(user)
    return user


@pytest.fixture
def other_manager_user(other_cooperative):
    user = UserFactory(role=User.Role.COOPERATIVE_MANAGER)
    other_cooperative.managers.add(user)
    return user


@pytest.fixture
def buyer_user(db):
    return UserFactory(role=User.Role.BUYER)


@pytest.fixture
def organisation(db):
    """A Nanming buyer organisation (no approval threshold) with one store."""
    return BuyerOrganisationFactory()


@pytest.fixture
def store(organisation):
    return StoreFactory(organisation=organisation)


@pytest.fixture
def other_organisation(db):
    return BuyerOrganisationFactory()


@pytest.fixture
def other_store(other_organisation):
    return StoreFactory(organisation=other_organisation)


@pytest.fixture
def purchaser_user(organisation):
    return MembershipFactory(organisation=organisation, role=Membership.Role.PURCHASER).user


@pytest.fixture
def approver_user(organisation):
    return MembershipFactory(organisation=organisation, role=Membership.Role.APPROVER).user


@pytest.fixture
def other_purchaser_user(other_organisation):
    return MembershipFactory(organisation=other_organisation).user


@pytest.fixture
def purchaser(purchaser_user):
    """Signed in as a purchaser of `organisation`."""
    return client_for(purchaser_user)


@pytest.fixture
def approver(approver_user):
    """Signed in as an approver of `organisation`."""
    return client_for(approver_user)


@pytest.fixture
def other_purchaser(other_purchaser_user):
    """Signed in as a purchaser of `other_organisation`."""
    return client_for(other_purchaser_user)


@pytest.fixture
def partner_user(organisation):
    """A partner system acting for `organisation` (a purchaser membership)."""
    user = UserFactory(role=User.Role.PARTNER)
    MembershipFactory(organisation=organisation, user=user, role=Membership.Role.PURCHASER)
    return user


@pytest.fixture
def staff(staff_user):
    return client_for(staff_user)


@pytest.fixture
def manager(manager_user):
    """Signed in as a manager of the `cooperative` fixture."""
    return client_for(manager_user)


@pytest.fixture
def other_manager(other_manager_user):
    """Signed in as a manager of `other_cooperative`."""
    return client_for(other_manager_user)


@pytest.fixture
def buyer(buyer_user):
    return client_for(buyer_user)


@pytest.fixture
def partner(partner_user):
    """Signed in as a partner system with `Authorization: Api-Key <key>`."""
    _key, plain = PartnerApiKey.objects.create_key(user=partner_user, name="test partner")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    client.user = partner_user
    return client


def assert_error(response, status: int, code: str | None = None, field: str | None = None):
    """Every error has the one shape: {"error": {"code", "message", "fields"}}."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code, error
    if field is not None:
        assert field in error["fields"], error
    return error


WAIT_SECONDS = 20


def wait_for(condition, timeout: float = WAIT_SECONDS) -> bool:
    """Poll until condition() is true or the timeout passes (for effects of a worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


@pytest.fixture
def worker():
    """A real Celery worker thread on the project's app, consuming from the configured broker
    (Redis in the test run). No ping check: it needs a result backend and the test-only
    celery.ping task. Use with @pytest.mark.worker and django_db(transaction=True), since the
    worker reads the database on its own connection."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20) as w:
        yield w


@pytest.fixture
def finished_tasks():
    """(task name, return value) of every task a worker finishes during the test, in order,
    from Celery's task_postrun signal: there is no result backend to ask."""
    finished = []

    def record(sender=None, retval=None, **kwargs):
        finished.append((sender.name, retval))

    task_postrun.connect(record, weak=False)
    yield finished
    task_postrun.disconnect(record)


# --- The OpenAPI schema, as a client fetches it ---------------------------------------------------
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema():
    """The live schema (/api/schema/), parsed; the committed copy is docs/openapi.yaml."""
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def operations(schema):
    """(path, method, operation) for every operation of the schema."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def deliver_mail(*event_types: str):
    """Send the outbox's pending e-mails (of these event types, or all) now, as the worker
    would, and answer Django's test mail outbox (one message per recipient)."""
    from django.core import mail

    from notices.models import Notice
    from notices.services import notice_send

    pending = Notice.objects.filter(channel="email", status="pending").order_by("pk")
    if event_types:
        pending = pending.filter(event_type__in=event_types)
    for notice_id in pending.values_list("pk", flat=True):
        notice_send(notice_id=notice_id)
    return mail.outbox
