"""Partner API keys, self-service: an organisation's approvers create (shown once), list and
revoke their own keys; several live at once; revoked ones stop at once; last-used is kept
without a write per request."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import PartnerApiKey
from tests.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/partner-keys/"


def key_client(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    return client


def create(client, **body):
    return client.post(URL, {"name": "replenishment", **body}, format="json")


def test_an_approver_creates_a_key_shown_once_and_it_works(approver, partner_user):
    response = create(approver)
    assert response.status_code == 201, response.content
    body = response.json()
    plain = body["key"]
    assert plain.startswith(body["prefix"] + ".")
    assert body["partner"] == partner_user.pk
    assert body["revoked"] is False and body["last_used_at"] is None

    # The key is never answered again, in a list or a read.
    listed = approver.get(URL).json()["results"]
    assert [row["prefix"] for row in listed] == [body["prefix"]]
    assert "key" not in listed[0]
    read = approver.get(f"{URL}{body['prefix']}/").json()
    assert "key" not in read and plain not in str(read)

    assert key_client(plain).get("/api/v1/orders/").status_code == 200


def test_several_live_keys_rotate(approver, partner_user):
    old = create(approver, name="old").json()
    new = create(approver, name="new").json()
    assert key_client(old["key"]).get("/api/v1/orders/").status_code == 200
    assert key_client(new["key"]).get("/api/v1/orders/").status_code == 200

    revoked = approver.delete(f"{URL}{old['prefix']}/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is True
    assert_error(key_client(old["key"]).get("/api/v1/orders/"), 401, "authentication_failed")
    assert key_client(new["key"]).get("/api/v1/orders/").status_code == 200
    # Revoking twice is harmless.
    assert approver.delete(f"{URL}{old['prefix']}/").status_code == 200


def test_a_revoked_key_stops_between_two_requests(approver, partner_user):
    """No cache stands between a revocation and the next request."""
    body = create(approver).json()
    client = key_client(body["key"])
    assert client.get("/api/v1/products/").status_code == 200
    approver.delete(f"{URL}{body['prefix']}/")
    assert_error(client.get("/api/v1/products/"), 401, "authentication_failed")


def test_last_used_is_written_at_most_once_a_minute(approver, partner_user):
    body = create(approver).json()
    client = key_client(body["key"])
    client.get("/api/v1/products/")
    key = PartnerApiKey.objects.get(prefix=body["prefix"])
    first = key.last_used_at
    assert first is not None
    assert approver.get(f"{URL}{body['prefix']}/").json()["last_used_at"] is not None

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/products/")
    assert not [q for q in queries if q["sql"].startswith("UPDATE")], "a write per request"
    key.refresh_from_db()
    assert key.last_used_at == first

    # A minute later, one conditional UPDATE.
    PartnerApiKey.objects.filter(pk=key.pk).update(
        last_used_at=first - datetime.timedelta(seconds=61)
    )
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/products/")
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1 and "last_used_at" in updates[0]
    key.refresh_from_db()
    assert key.last_used_at > first


def test_the_partner_must_be_named_when_there_are_several(
    approver, partner_user, second_partner_user
):
    assert_error(create(approver), 400, "validation_error", "partner")
    response = create(approver, partner=second_partner_user.pk)
    assert response.status_code == 201
    assert response.json()["partner"] == second_partner_user.pk


def test_without_a_partner_account_the_approver_is_told_why(approver):
    error = assert_error(create(approver), 400, "validation_error", "partner")
    assert "staff" in error["message"] or "工作人员" in error["message"]
    assert PartnerApiKey.objects.count() == 0


def test_another_organisations_partner_is_no_choice(approver, partner_user, other_organisation):
    from tests.factories import MembershipFactory, UserFactory

    foreign_partner = UserFactory(role="partner")
    MembershipFactory(organisation=other_organisation, user=foreign_partner)
    assert_error(create(approver, partner=foreign_partner.pk), 400, "validation_error", "partner")
    assert PartnerApiKey.objects.count() == 0


def test_an_expiry_in_the_past_is_refused(approver, partner_user):
    past = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    assert_error(create(approver, expiry_date=past), 400, "validation_error", "expiry_date")
    assert PartnerApiKey.objects.count() == 0


def test_an_expired_key_stops(approver, partner_user):
    soon = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    body = create(approver, expiry_date=soon).json()
    PartnerApiKey.objects.filter(prefix=body["prefix"]).update(
        expiry_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert_error(key_client(body["key"]).get("/api/v1/products/"), 401)


def test_others_neither_see_nor_revoke_the_keys(
    approver, purchaser, partner, partner_user, other_approver_user
):
    body = create(approver).json()
    other = client_for(other_approver_user)
    assert other.get(URL).json()["results"] == []
    assert_error(other.delete(f"{URL}{body['prefix']}/"), 404, "not_found")
    # Purchasers and partner systems manage no keys (a key must not mint keys).
    assert_error(purchaser.get(URL), 403, "permission_denied")
    assert_error(partner.post(URL, {"name": "mine"}, format="json"), 403, "permission_denied")
    assert not PartnerApiKey.objects.get(prefix=body["prefix"]).revoked


def test_staff_see_and_revoke_every_key(staff, approver, partner_user):
    body = create(approver).json()
    assert [row["prefix"] for row in staff.get(URL).json()["results"]] == [body["prefix"]]
    assert_error(create(staff), 400, "validation_error", "partner")  # staff name the account
    assert create(staff, partner=partner_user.pk).status_code == 201
    assert staff.delete(f"{URL}{body['prefix']}/").json()["revoked"] is True


def test_a_replayed_create_makes_no_second_key_and_never_stores_the_key(approver, partner_user):
    from backend.models import IdempotencyKey

    headers = {"HTTP_IDEMPOTENCY_KEY": "key-create-1"}
    first = approver.post(URL, {"name": "x"}, format="json", **headers)
    second = approver.post(URL, {"name": "x"}, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["key"] and second.json()["key"] is None
    assert second.json()["prefix"] == first.json()["prefix"]
    assert PartnerApiKey.objects.count() == 1
    assert first.json()["key"] not in str(IdempotencyKey.objects.get().response_body)


def test_the_service_refuses_another_organisations_partner(approver_user, other_organisation):
    """The rule holds in the service too, not only in the serializer's choices."""
    from backend.errors import DomainError
    from partners.services import partner_key_create
    from tests.factories import MembershipFactory, UserFactory

    foreign_partner = UserFactory(role="partner")
    MembershipFactory(organisation=other_organisation, user=foreign_partner)
    with pytest.raises(DomainError) as refused:
        partner_key_create(user=approver_user, name="x", partner=foreign_partner)
    assert "partner" in refused.value.fields
    assert PartnerApiKey.objects.count() == 0
