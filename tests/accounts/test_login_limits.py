"""One sign-in rule for the API and the Django admin: the phone is read the same way, and the
same limits per address and per phone count every attempt, however the phone is spelled."""

import json
import threading

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import RequestFactory
from knox.models import AuthToken
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIClient

from accounts.models import User
from accounts.throttles import LOGIN_THROTTLES
from tests.accounts.test_auth import TOKEN_URL, login_limit
from tests.conftest import assert_error
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN_URL = "/admin/login/?next=/admin/"
STAFF_PHONE = "+8613800000001"

# Everything the login serializer accepts for +8613912345678.
SPELLINGS = [
    13912345678,
    8613912345678,
    "13912345678",
    " 139 1234 5678 ",
    "139-1234-5678",
    "+86 139-1234-5678",
    "0086 139 1234 5678",
    "86 13912345678",
    "１３９１２３４５６７８",  # full-width digits from a Chinese keyboard
]


@pytest.fixture
def person(db):
    return UserFactory(phone="+8613912345678", role=User.Role.BUYER)


@pytest.fixture
def staff_person(db):
    return UserFactory(phone=STAFF_PHONE, role=User.Role.STAFF, is_staff=True, is_superuser=True)


def api_login(client, phone, password):
    return client.post(TOKEN_URL, {"phone": phone, "password": password}, format="json")


def admin_login(client, phone, password):
    return client.post(ADMIN_LOGIN_URL, {"username": phone, "password": password})


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


# --- API: every spelling counts against one key ---------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS, ids=repr)
def test_spelling_logs_in(anon, person, spelling):
    response = api_login(anon, spelling, PASSWORD)
    assert response.status_code == 201, response.content
    assert response.json()["user"]["id"] == person.id


@pytest.mark.parametrize("spelling", SPELLINGS, ids=repr)
def test_every_spelling_counts_against_the_phone_limit(anon, person, spelling):
    for attempt in range(login_limit("login_phone")):
        response = api_login(anon, spelling, "wrong-guess")
        assert response.status_code == 400, (attempt, response.content)
    # The right password in this or any other spelling is now held back.
    for phone in (spelling, "+8613912345678", 13912345678):
        assert_error(api_login(anon, phone, PASSWORD), 429, "throttled")
    assert not AuthToken.objects.exists()


def test_mixed_spellings_share_one_count_across_addresses(person):
    for attempt in range(login_limit("login_phone")):
        client = APIClient(REMOTE_ADDR=f"10.1.0.{attempt + 1}")
        api_login(client, SPELLINGS[attempt % len(SPELLINGS)], "wrong-guess")
    assert_error(api_login(APIClient(REMOTE_ADDR="10.1.1.1"), 13912345678, PASSWORD), 429)


# --- The Django admin ---------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["13800000001", "+86 138 0000 0001", STAFF_PHONE])
def test_admin_accepts_the_phone_spellings_the_api_accepts(client, staff_person, spelling):
    response = admin_login(client, spelling, PASSWORD)
    assert response.status_code == 302, response.content.decode()[:500]
    assert signed_in(client)


def test_admin_refuses_a_wrong_password(client, staff_person):
    response = admin_login(client, "13800000001", "wrong-guess")
    assert response.status_code == 200
    assert not signed_in(client)


def test_admin_login_is_throttled_per_phone(client, staff_person):
    for attempt in range(login_limit("login_phone")):
        response = admin_login(client, "138 0000 0001", "wrong-guess")
        assert response.status_code == 200, attempt
        assert not signed_in(client)
    response = admin_login(client, "13800000001", PASSWORD)
    assert not signed_in(client)
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()


def test_admin_login_is_throttled_per_address(client, staff_person):
    for n in range(login_limit("login_ip")):
        admin_login(client, f"+86137{n:08d}", "wrong-guess")
    admin_login(client, STAFF_PHONE, PASSWORD)
    assert not signed_in(client)


def test_admin_and_api_share_the_phone_limit(client, anon, staff_person):
    limit = login_limit("login_phone")
    for attempt in range(limit):
        if attempt % 2:
            admin_login(client, "13800000001", "wrong-guess")
        else:
            api_login(anon, 13800000001, "wrong-guess")
    admin_login(client, STAFF_PHONE, PASSWORD)
    assert not signed_in(client)
    assert_error(api_login(anon, STAFF_PHONE, PASSWORD), 429, "throttled")


# --- Concurrent attempts --------------------------------------------------------------------


@pytest.mark.parametrize("throttle_class", LOGIN_THROTTLES, ids=lambda c: c.__name__)
def test_concurrent_attempts_cannot_pass_the_limit_together(throttle_class):
    """Attempts that arrive at once (one per gunicorn worker or thread) each count: a limit
    that reads the count and writes it back lets all of them read the same count and pass."""
    # One clock reading for all (tests/conftest.py): no two counting windows.
    attempts = 40
    barrier = threading.Barrier(attempts)
    allowed = []

    def attempt():
        request = Request(
            RequestFactory().post(
                TOKEN_URL,
                data=json.dumps({"phone": "13912345678", "password": "guess"}),
                content_type="application/json",
                REMOTE_ADDR="10.9.9.9",
            ),
            parsers=[JSONParser()],
        )
        barrier.wait()
        allowed.append(throttle_class().allow_request(request, None))

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == login_limit(throttle_class.scope)
