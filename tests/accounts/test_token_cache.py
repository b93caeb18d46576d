"""Bearer tokens are remembered in Redis (accounts/token_cache.py) so a request reads no token
row; revoking a token or changing its user must still count on the very next request."""

import pickle
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.crypto import hash_token
from knox.models import AuthToken

from accounts import services, token_cache
from accounts.models import User
from tests.accounts.test_auth import LOGOUT_URL, ME_URL, bearer
from tests.backend.test_redis_outage import on_own_redis, own_redis  # noqa: F401 (fixtures)
from tests.conftest import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LISTINGS_URL = "/api/v1/listings/"


@pytest.fixture
def person(db):
    return UserFactory(role=User.Role.BUYER)


def token_for(user, **kwargs) -> str:
    return AuthToken.objects.create(user, **kwargs)[1]


def warm(client) -> None:
    """A request that leaves the token remembered, then one that must read no token row."""
    assert client.get(LISTINGS_URL).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LISTINGS_URL).status_code == 200
    assert not [q for q in queries if "knox_authtoken" in q["sql"]]


def test_a_remembered_token_reads_no_token_row(person):
    warm(bearer(token_for(person)))


def test_logout_counts_on_the_next_request(person):
    client = bearer(token_for(person))
    warm(client)
    assert client.post(LOGOUT_URL).status_code == 204
    assert_error(client.get(LISTINGS_URL), 401)


def test_revoking_all_tokens_counts_on_the_next_request(person):
    first, second = bearer(token_for(person)), bearer(token_for(person))
    warm(first)
    warm(second)
    services.tokens_revoke_all(user=person)
    assert_error(first.get(LISTINGS_URL), 401)
    assert_error(second.get(LISTINGS_URL), 401)


def test_deactivating_the_user_counts_on_the_next_request(person):
    client = bearer(token_for(person))
    warm(client)
    person.is_active = False
    person.save()
    assert_error(client.get(LISTINGS_URL), 401)


def test_a_role_change_counts_on_the_next_request(person):
    client = bearer(token_for(person))
    warm(client)
    assert client.get(ME_URL).json()["role"] == "buyer"
    person.role = User.Role.PARTNER
    person.save()
    assert client.get(ME_URL).json()["role"] == "partner"


def test_a_remembered_token_still_expires(person):
    client = bearer(token_for(person, expiry=timedelta(seconds=1)))
    warm(client)
    time.sleep(1.2)
    assert_error(client.get(LISTINGS_URL), 401)
    assert not AuthToken.objects.filter(user=person).exists()


def test_a_sign_in_does_not_forget_the_other_tokens(person):
    client = bearer(token_for(person))
    warm(client)
    person.last_login = person.date_joined
    person.save(update_fields=["last_login"])
    warm(client)


@pytest.mark.django_db(transaction=True)  # the refusal rolls back: see that nothing was written
def test_logout_is_refused_while_the_cache_cannot_be_reached(on_own_redis, person):  # noqa: F811
    client = bearer(token_for(person))
    warm(client)
    on_own_redis.kill()
    on_own_redis.wait(timeout=10)
    assert_error(client.post(LOGOUT_URL), 409, "retry")
    # Nothing was written: the token still works (checked against the database).
    assert AuthToken.objects.filter(user=person).exists()
    assert client.get(ME_URL).status_code == 200


def test_without_a_shared_cache_every_request_reads_the_token(person, settings):
    settings.AUTH_TOKEN_CACHE_SECONDS = 0
    client = bearer(token_for(person))
    client.get(LISTINGS_URL)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LISTINGS_URL).status_code == 200
    assert [q for q in queries if "knox_authtoken" in q["sql"]]


def test_the_remembered_token_holds_no_password_hash(person):
    """The cache keeps who the user is, not their password hash; the user read back from it
    still signs in, and saving it leaves the password as it was."""
    person.set_password("shitun-demo-2026")
    person.save()
    token = token_for(person)
    warm(bearer(token))
    entry = cache.get(token_cache._key(hash_token(token)))
    assert entry.user.pk == person.pk
    assert "password" not in entry.user.__dict__
    assert person.password.encode() not in pickle.dumps(entry)
    entry.user.name = "南明采购员"
    entry.user.save()
    person.refresh_from_db()
    assert person.name == "南明采购员"
    assert person.check_password("shitun-demo-2026")


def test_a_membership_or_organisation_change_counts_on_the_next_request(person):
    """A remembered token carries its user's membership and organisation (one query reads
    them with the token): joining, changing role, leaving, and a change of the organisation's
    approval threshold all count on the very next request."""
    from buyers.models import Membership
    from tests.factories import BuyerOrganisationFactory

    token = token_for(person)
    client = bearer(token)
    warm(client)

    def remembered():
        return cache.get(token_cache._key(hash_token(token)))

    organisation = BuyerOrganisationFactory()
    membership = Membership.objects.create(
        user=person, organisation=organisation, role=Membership.Role.PURCHASER
    )
    assert remembered() is None
    warm(client)
    assert remembered().user.buyer_membership.role == Membership.Role.PURCHASER
    membership.role = Membership.Role.APPROVER
    membership.save()
    assert remembered() is None
    warm(client)
    organisation.approval_threshold = 5000
    organisation.save()
    assert remembered() is None
    warm(client)
    membership.delete()
    assert remembered() is None


def test_a_change_of_the_cooperatives_a_manager_runs_counts_on_the_next_request():
    """A remembered token carries which cooperatives its manager runs (asked with the
    credential, settings.AUTH_USER_PRELOAD): being added or removed, from either side of the
    relation or by clearing it, counts on the very next request."""
    from tests.factories import CooperativeFactory, HouseholdFactory

    manager = UserFactory(role=User.Role.COOPERATIVE_MANAGER)
    cooperative, other = CooperativeFactory(), CooperativeFactory()
    household = HouseholdFactory(cooperative=cooperative)
    token = token_for(manager)
    client = bearer(token)
    url = f"/api/v1/households/{household.pk}/"

    def remembered():
        return cache.get(token_cache._key(hash_token(token)))

    assert_error(client.get(url), 404)
    assert remembered().user._managed_cooperative_ids == frozenset()
    cooperative.managers.add(manager)
    assert remembered() is None
    assert client.get(url).status_code == 200
    assert remembered().user._managed_cooperative_ids == {cooperative.pk}
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert not [q for q in queries if "managers" in q["sql"] or "knox" in q["sql"]]
    manager.managed_cooperatives.remove(cooperative)  # from the user's side
    assert remembered() is None
    assert_error(client.get(url), 404)
    manager.managed_cooperatives.add(cooperative, other)
    assert client.get(url).status_code == 200
    cooperative.managers.clear()
    assert remembered() is None
    assert_error(client.get(url), 404)
    assert remembered().user._managed_cooperative_ids == {other.pk}


def test_a_change_of_an_organisations_stores_counts_on_the_next_request(person):
    """A remembered purchaser's token carries the organisation's stores (asked with the
    credential, settings.AUTH_USER_PRELOAD): a store added, changed, moved to another
    organisation (both organisations' members) or deleted forgets the tokens."""
    from buyers.models import Membership, Store
    from tests.factories import BuyerOrganisationFactory, StoreFactory

    organisation, other = BuyerOrganisationFactory(), BuyerOrganisationFactory()
    Membership.objects.create(
        user=person, organisation=organisation, role=Membership.Role.PURCHASER
    )
    colleague = UserFactory(role=User.Role.BUYER)
    Membership.objects.create(user=colleague, organisation=other, role=Membership.Role.PURCHASER)
    first = StoreFactory(organisation=organisation)
    token, other_token = token_for(person), token_for(colleague)
    client, other_client = bearer(token), bearer(other_token)

    def stores(plain=token):
        entry = cache.get(token_cache._key(hash_token(plain)))
        return None if entry is None else entry.user._organisation_stores

    warm(client)
    warm(other_client)
    assert set(stores()) == {first.pk} and stores(other_token) == {}
    second = StoreFactory(organisation=organisation)  # added
    assert stores() is None and stores(other_token) == {}
    warm(client)
    assert set(stores()) == {first.pk, second.pk}
    second.is_active = False  # changed
    second.save()
    assert stores() is None
    warm(client)
    assert stores()[second.pk].is_active is False
    second.organisation = other  # moved: both sides forget
    second.save()
    assert stores() is None and stores(other_token) is None
    warm(client)
    warm(other_client)
    assert set(stores()) == {first.pk} and set(stores(other_token)) == {second.pk}
    Store.objects.get(pk=second.pk).delete()  # deleted
    assert stores(other_token) is None and set(stores()) == {first.pk}


def test_staff_tokens_carry_no_stores():
    """Staff may name any store: theirs are asked of the database, not remembered."""
    staff = UserFactory(role=User.Role.STAFF, is_staff=True)
    token = token_for(staff)
    warm(bearer(token))
    entry = cache.get(token_cache._key(hash_token(token)))
    assert not hasattr(entry.user, "_organisation_stores")
