"""Signing in: bearer tokens for people, API keys for partner systems, throttled logins."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import PartnerApiKey, User
from tests.conftest import assert_error
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/auth/me/"
LOGOUT_URL = "/api/v1/auth/logout/"
CATALOG_URL = "/api/v1/products/"


def login_limit(scope: str) -> int:
    """Allowed attempts per period. DRF copies the rates onto the throttle classes at import,
    so the `settings` fixture cannot change them: read what is configured instead."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
    num_requests, _duration = SimpleRateThrottle.parse_rate(None, rate)
    return num_requests


@pytest.fixture
def person(db):
    return UserFactory(phone="+8613912345678", role=User.Role.BUYER)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def api_key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


# --- Bearer tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["13912345678", "+86 139 1234 5678", "+8613912345678"])
def test_login_gives_a_bearer_token_that_works(anon, person, phone):
    response = anon.post(TOKEN_URL, {"phone": phone, "password": PASSWORD}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["id"] == person.id
    assert body["user"]["phone"] == "+8613912345678"
    assert body["expiry"]

    me = bearer(body["token"]).get(ME_URL)
    assert me.status_code == 200
    assert me.json()["id"] == person.id
    assert me.json()["role"] == "buyer"


def test_wrong_password_and_unknown_phone_answer_the_same(anon, person):
    wrong = anon.post(TOKEN_URL, {"phone": person.phone, "password": "nope-nope"}, format="json")
    unknown = anon.post(TOKEN_URL, {"phone": "+8613800000000", "password": PASSWORD}, format="json")
    assert_error(wrong, 400)
    assert_error(unknown, 400)
    assert wrong.json() == unknown.json()
    assert not AuthToken.objects.exists()


def test_inactive_user_cannot_log_in(anon, person):
    User.objects.filter(pk=person.pk).update(is_active=False)
    response = anon.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    assert_error(response, 400)
    assert not AuthToken.objects.exists()


def test_partner_account_cannot_log_in_with_a_password(anon, partner_user):
    response = anon.post(
        TOKEN_URL, {"phone": partner_user.phone, "password": PASSWORD}, format="json"
    )
    assert_error(response, 400)
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone": "12345", "password": PASSWORD}, "phone"),
        ({"password": PASSWORD}, "phone"),
        ({"phone": "13912345678"}, "password"),
        ({"phone": ["13912345678"], "password": PASSWORD}, "phone"),
    ],
)
def test_malformed_login_is_a_validation_error(anon, person, payload, field):
    response = anon.post(TOKEN_URL, payload, format="json")
    assert_error(response, 400, "validation_error", field)


def test_malformed_json_login_is_400_in_the_error_shape(anon):
    response = anon.post(TOKEN_URL, "{not json", content_type="application/json")
    assert_error(response, 400)


def test_logout_revokes_the_token(anon, person):
    token = anon.post(
        TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json"
    ).json()["token"]
    client = bearer(token)
    assert client.get(ME_URL).status_code == 200

    assert client.post(LOGOUT_URL).status_code == 204
    assert_error(client.get(ME_URL), 401)
    assert not AuthToken.objects.filter(user=person).exists()


def test_logout_revokes_only_that_token(person):
    _, first = AuthToken.objects.create(person)
    _, second = AuthToken.objects.create(person)
    assert bearer(first).post(LOGOUT_URL).status_code == 204
    assert_error(bearer(first).get(ME_URL), 401)
    assert bearer(second).get(ME_URL).status_code == 200


def test_logout_needs_a_token(anon):
    assert_error(anon.post(LOGOUT_URL), 401)


def test_expired_token_is_refused(person):
    _, plain = AuthToken.objects.create(person, expiry=timedelta(seconds=-1))
    response = bearer(plain).get(ME_URL)
    assert_error(response, 401)


def test_token_of_deactivated_user_is_refused(person):
    _, plain = AuthToken.objects.create(person)
    User.objects.filter(pk=person.pk).update(is_active=False)
    assert_error(bearer(plain).get(ME_URL), 401)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer " + "0" * 64,
        "Bearer",
        "Bearer two parts",
    ],
)
def test_invalid_bearer_token_is_401_in_the_error_shape(person, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(ME_URL)
    assert_error(response, 401)
    assert response.headers.get("WWW-Authenticate")


def test_anonymous_me_is_401(anon):
    response = anon.get(ME_URL)
    assert_error(response, 401)
    assert response.headers.get("WWW-Authenticate")


def test_tokens_are_stored_as_digests(anon, person):
    token = anon.post(
        TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json"
    ).json()["token"]
    row = AuthToken.objects.filter(user=person).values().get()
    assert token not in {str(value) for value in row.values()}


# --- Throttling -------------------------------------------------------------------------------


def test_login_is_throttled_per_phone(anon, person):
    limit = login_limit("login_phone")
    # The same account written two ways counts as one: the throttle normalises the phone.
    for attempt in range(limit):
        phone = "13912345678" if attempt % 2 else "+86 139 1234 5678"
        response = anon.post(TOKEN_URL, {"phone": phone, "password": "wrong-guess"}, format="json")
        assert response.status_code == 400, (attempt, response.content)

    # Once throttled, even the right password is refused.
    response = anon.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    assert_error(response, 429, "throttled")
    assert int(response.headers["Retry-After"]) > 0
    assert not AuthToken.objects.exists()


def test_phone_throttle_counts_across_addresses(person):
    limit = login_limit("login_phone")
    for attempt in range(limit):
        client = APIClient(REMOTE_ADDR=f"10.0.0.{attempt + 1}")
        client.post(TOKEN_URL, {"phone": person.phone, "password": "wrong"}, format="json")
    client = APIClient(REMOTE_ADDR="10.0.1.1")
    response = client.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    assert_error(response, 429, "throttled")


def test_phone_throttle_leaves_other_accounts_alone(anon, person):
    other = UserFactory()
    for _ in range(login_limit("login_phone") + 1):
        anon.post(TOKEN_URL, {"phone": person.phone, "password": "wrong"}, format="json")
    response = anon.post(TOKEN_URL, {"phone": other.phone, "password": PASSWORD}, format="json")
    assert response.status_code == 201, response.content


def test_login_is_throttled_per_address(person):
    limit = login_limit("login_ip")
    client = APIClient(REMOTE_ADDR="10.9.8.7")
    for n in range(limit):
        response = client.post(
            TOKEN_URL, {"phone": f"+86137{n:08d}", "password": "wrong"}, format="json"
        )
        assert response.status_code == 400, (n, response.content)
    response = client.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    error = assert_error(response, 429, "throttled")
    assert error["message"]
    assert int(response.headers["Retry-After"]) > 0
    # Another address is not held back.
    other = APIClient(REMOTE_ADDR="10.9.8.8")
    ok = other.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    assert ok.status_code == 201


def test_malformed_logins_count_against_the_address(person):
    client = APIClient(REMOTE_ADDR="10.9.8.6")
    for _ in range(login_limit("login_ip")):
        client.post(TOKEN_URL, {"phone": "not a phone", "password": "x"}, format="json")
    response = client.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    assert_error(response, 429, "throttled")


# --- Partner API keys -------------------------------------------------------------------------


def test_api_key_reads_the_catalog(partner_user):
    _key, plain = PartnerApiKey.objects.create_key(user=partner_user, name="hema")
    response = api_key_client(plain).get(CATALOG_URL)
    assert response.status_code == 200, response.content


def test_api_key_acts_as_its_partner_account(partner_user):
    _key, plain = PartnerApiKey.objects.create_key(user=partner_user, name="hema")
    response = api_key_client(plain).get(ME_URL)
    assert response.status_code == 200
    assert response.json()["id"] == partner_user.id
    assert response.json()["role"] == "partner"


def test_revoked_api_key_is_401(partner_user):
    key, plain = PartnerApiKey.objects.create_key(user=partner_user, name="hema")
    key.revoked = True
    key.save()
    response = api_key_client(plain).get(CATALOG_URL)
    assert_error(response, 401)


def test_expired_api_key_is_401(partner_user):
    _key, plain = PartnerApiKey.objects.create_key(
        user=partner_user, name="hema", expiry_date=timezone.now() - timedelta(minutes=1)
    )
    assert_error(api_key_client(plain).get(CATALOG_URL), 401)


def test_api_key_of_inactive_partner_is_401(partner_user):
    _key, plain = PartnerApiKey.objects.create_key(user=partner_user, name="hema")
    User.objects.filter(pk=partner_user.pk).update(is_active=False)
    assert_error(api_key_client(plain).get(CATALOG_URL), 401)


@pytest.mark.parametrize(
    "key",
    [
        "abcdefgh.ijklmnopqrstuvwxyz012345",  # well-formed, never issued
        "garbage",
        "",
    ],
)
def test_unknown_api_key_is_401(partner_user, key):
    response = api_key_client(key).get(CATALOG_URL)
    assert_error(response, 401)


def test_api_key_with_right_prefix_and_wrong_secret_is_401(partner_user):
    key, plain = PartnerApiKey.objects.create_key(user=partner_user, name="hema")
    forged = f"{key.prefix}.{'x' * 32}"
    assert forged != plain
    assert_error(api_key_client(forged).get(CATALOG_URL), 401)


def test_api_keys_are_stored_hashed(partner_user):
    key, plain = PartnerApiKey.objects.create_key(user=partner_user, name="hema")
    prefix, _dot, secret = plain.partition(".")
    row = PartnerApiKey.objects.filter(pk=key.pk).values().get()
    stored = " ".join(str(value) for value in row.values())
    assert plain not in stored
    assert secret not in stored
    assert row["prefix"] == prefix  # only the lookup prefix is kept in clear
