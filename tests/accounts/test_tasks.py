from datetime import timedelta

import pytest
from knox.models import AuthToken

from accounts.tasks import purge_expired_tokens
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_purge_expired_tokens_deletes_expired_and_keeps_valid():
    user, other = UserFactory(), UserFactory()
    expired, _ = AuthToken.objects.create(user, expiry=timedelta(seconds=-1))
    expired_other, _ = AuthToken.objects.create(other, expiry=timedelta(days=-3))
    valid, _ = AuthToken.objects.create(user, expiry=timedelta(hours=1))
    forever, _ = AuthToken.objects.create(other, expiry=None)

    assert purge_expired_tokens() == 2

    remaining = set(AuthToken.objects.values_list("digest", flat=True))
    assert remaining == {valid.digest, forever.digest}
    assert expired.digest not in remaining and expired_other.digest not in remaining


def test_purge_expired_tokens_twice_is_harmless():
    user = UserFactory()
    AuthToken.objects.create(user, expiry=timedelta(seconds=-1))
    valid, _ = AuthToken.objects.create(user)

    assert purge_expired_tokens() == 1
    assert purge_expired_tokens() == 0
    assert list(AuthToken.objects.values_list("digest", flat=True)) == [valid.digest]
