"""Bearer tokens end with the password they were issued under, and no user holds more than
TOKEN_LIMIT_PER_USER live tokens, whichever path issued them."""

import getpass
import io
import threading

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from knox.models import AuthToken
from knox.settings import knox_settings

from accounts.models import User
from accounts.services import token_create
from tests.accounts.test_auth import ME_URL, TOKEN_URL, bearer
from tests.conftest import assert_error, client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-passphrase-2026"


@pytest.fixture
def person(db):
    return UserFactory(role=User.Role.BUYER)


@pytest.fixture
def signed_in(person):
    """Two of the person's devices and someone else's, all signed in."""
    return [client_for(person), client_for(person)], client_for(UserFactory())


def assert_revoked(signed_in):
    mine, theirs = signed_in
    for client in mine:
        assert_error(client.get(ME_URL), 401)
    assert theirs.get(ME_URL).status_code == 200


def test_set_password_and_save_revokes_the_users_tokens(person, signed_in):
    person.set_password(NEW_PASSWORD)
    person.save()
    assert_revoked(signed_in)


def test_set_password_saved_with_update_fields_revokes(person, signed_in):
    person.set_password(NEW_PASSWORD)
    person.save(update_fields=["password"])
    assert_revoked(signed_in)


def test_making_the_password_unusable_revokes(person, signed_in):
    person.set_unusable_password()
    person.save()
    assert_revoked(signed_in)


def test_saving_other_fields_keeps_the_tokens(person, signed_in):
    person.name = "新名字"
    person.save()
    mine, _theirs = signed_in
    assert all(client.get(ME_URL).status_code == 200 for client in mine)


def test_changepassword_command_revokes(person, signed_in, monkeypatch):
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", person.phone, stdout=io.StringIO())
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert_revoked(signed_in)


def test_admin_password_change_revokes(client, staff_user, person, signed_in):
    client.force_login(staff_user)
    response = client.post(
        f"/admin/accounts/user/{person.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert_revoked(signed_in)


def test_old_token_fails_and_new_password_logs_in(anon, person, signed_in):
    person.set_password(NEW_PASSWORD)
    person.save()
    response = anon.post(
        TOKEN_URL, {"phone": person.phone, "password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 201
    assert bearer(response.json()["token"]).get(ME_URL).status_code == 200


def test_a_hash_upgrade_at_login_is_not_a_password_change(anon, person, settings):
    """Django re-hashes a password with the preferred hasher when it checks it; that is the
    same password, so the user's other devices stay signed in."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
    User.objects.filter(pk=person.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha1"))
    other_device = client_for(person)
    response = anon.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    assert response.status_code == 201
    person.refresh_from_db()
    assert person.password.startswith("md5$")  # the upgrade happened
    assert other_device.get(ME_URL).status_code == 200


# --- TOKEN_LIMIT_PER_USER -----------------------------------------------------------------------


def test_login_never_leaves_more_than_the_limit_of_live_tokens(anon, person):
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    assert limit
    oldest = client_for(person)
    for _ in range(limit - 1):
        client_for(person)
    response = anon.post(TOKEN_URL, {"phone": person.phone, "password": PASSWORD}, format="json")
    assert response.status_code == 201, response.content
    assert AuthToken.objects.filter(user=person).count() == limit
    # The new token works; the oldest device is the one signed out.
    assert bearer(response.json()["token"]).get(ME_URL).status_code == 200
    assert_error(oldest.get(ME_URL), 401)


def test_token_create_enforces_the_limit_on_every_path(person):
    from accounts.services import token_create

    limit = knox_settings.TOKEN_LIMIT_PER_USER
    for _ in range(limit + 3):
        token_create(user=person)
    assert AuthToken.objects.filter(user=person).count() == limit


@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_at_the_limit_leave_no_more_than_the_limit():
    """Logins on several devices at once each see the user's tokens: without the row lock
    they all see room for one more and all add one."""
    person = UserFactory(role=User.Role.BUYER)
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    for _ in range(limit):
        AuthToken.objects.create(person)
    logins = 6
    barrier = threading.Barrier(logins)
    failures = []

    def login():
        try:
            barrier.wait()
            token_create(user=person)
        except Exception as exc:  # a login that failed proves nothing about the limit
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=login) for _ in range(logins)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert AuthToken.objects.filter(user=person).count() == limit
