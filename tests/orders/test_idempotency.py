"""Idempotency-Key (backend.idempotency) on POSTs that create something: a retry with the
same key and body answers the original response and creates nothing more."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backend.idempotency import purge_expired_keys
from backend.models import IdempotencyKey
from orders.models import Order
from products.models import Lot
from suppliers.models import Household
from tests.conftest import assert_error, client_for
from tests.factories import HouseholdFactory, ListingFactory

D = Decimal
URL = "/api/v1/orders/"
KEY = "HTTP_IDEMPOTENCY_KEY"


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


def order_body(store, listing, quantity="10") -> dict:
    return {"store": store.pk, "lines": [{"listing": listing.pk, "quantity": quantity}]}


def post(client, data, key, url=URL):
    return client.post(url, data, format="json", **{KEY: key})


def reserved(listing) -> Decimal:
    listing.refresh_from_db()
    return listing.stock_reserved


def age_keys(by: datetime.timedelta) -> None:
    IdempotencyKey.objects.update(created_at=timezone.now() - by)


# --- Orders -----------------------------------------------------------------------------------


def test_same_key_and_body_replays_the_original_answer(purchaser, store, listing):
    first = post(purchaser, order_body(store, listing), "order-1")
    again = post(purchaser, order_body(store, listing), "order-1")
    assert first.status_code == again.status_code == 201, again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Order.objects.count() == 1
    assert reserved(listing) == D("10")


def test_replay_answers_the_original_even_when_stock_has_run_out(
    purchaser, other_purchaser, store, other_store, listing
):
    first = post(purchaser, order_body(store, listing), "order-1")
    taken = post(other_purchaser, order_body(other_store, listing, "90"), "other")
    assert taken.status_code == 201
    again = post(purchaser, order_body(store, listing), "order-1")
    assert again.status_code == 201, again.content
    assert again.json()["id"] == first.json()["id"]
    assert reserved(listing) == D("100")


def test_same_key_with_another_body_is_422(purchaser, store, listing):
    first = post(purchaser, order_body(store, listing), "order-1")
    assert first.status_code == 201
    response = post(purchaser, order_body(store, listing, "15"), "order-1")
    error = assert_error(response, 422, "idempotency_key_reused", "Idempotency-Key")
    assert "Idempotency-Key" in error["message"]
    assert Order.objects.count() == 1
    assert reserved(listing) == D("10")


def test_same_key_on_another_endpoint_is_422(purchaser, store, listing):
    first = post(purchaser, order_body(store, listing), "shared")
    order_id = first.json()["id"]
    response = post(purchaser, {}, "shared", url=f"{URL}{order_id}/reorder/")
    assert_error(response, 422, "idempotency_key_reused", "Idempotency-Key")
    assert Order.objects.count() == 1


def test_different_users_use_the_same_key_independently(
    purchaser, approver, other_purchaser, store, other_store, listing
):
    mine = post(purchaser, order_body(store, listing), "order-1")
    colleague = post(approver, order_body(store, listing), "order-1")
    stranger = post(other_purchaser, order_body(other_store, listing), "order-1")
    assert mine.status_code == colleague.status_code == stranger.status_code == 201
    ids = {mine.json()["id"], colleague.json()["id"], stranger.json()["id"]}
    assert len(ids) == 3
    assert "Idempotent-Replayed" not in colleague.headers
    assert reserved(listing) == D("30")


def test_without_a_key_every_post_creates(purchaser, store, listing):
    purchaser.post(URL, order_body(store, listing), format="json")
    purchaser.post(URL, order_body(store, listing), format="json")
    assert Order.objects.count() == 2


def test_failed_request_does_not_use_up_the_key(purchaser, store, listing):
    refused = post(purchaser, order_body(store, listing, "105"), "order-1")
    assert_error(refused, 409, "insufficient_stock")
    assert not IdempotencyKey.objects.exists()
    # Nothing was stored for the failure, so the corrected request is a new one: not a 422.
    corrected = post(purchaser, order_body(store, listing, "100"), "order-1")
    assert corrected.status_code == 201, corrected.content
    assert "Idempotent-Replayed" not in corrected.headers
    assert reserved(listing) == D("100")


def test_invalid_request_does_not_use_up_the_key(purchaser, store, listing):
    assert_error(post(purchaser, order_body(store, listing, "12"), "order-1"), 400)
    assert post(purchaser, order_body(store, listing, "10"), "order-1").status_code == 201


def test_replay_of_reorder_places_one_order(purchaser, store, listing):
    first = post(purchaser, order_body(store, listing), "order-1").json()["id"]
    again = [post(purchaser, {}, "reorder-1", url=f"{URL}{first}/reorder/") for _ in range(2)]
    assert again[0].status_code == again[1].status_code == 201
    assert again[0].json()["id"] == again[1].json()["id"]
    assert again[1].headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 2
    assert reserved(listing) == D("20")


# --- Keys and their lifetime ------------------------------------------------------------------


def test_keys_live_at_least_24_hours():
    assert settings.IDEMPOTENCY_KEY_TTL >= datetime.timedelta(hours=24)


def test_key_a_day_old_is_still_honoured(purchaser, store, listing):
    post(purchaser, order_body(store, listing), "order-1")
    age_keys(datetime.timedelta(hours=24))
    again = post(purchaser, order_body(store, listing), "order-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_purge_forgets_keys_older_than_the_ttl(purchaser, store, listing):
    post(purchaser, order_body(store, listing), "old")
    age_keys(settings.IDEMPOTENCY_KEY_TTL + datetime.timedelta(hours=2))
    post(purchaser, order_body(store, listing), "fresh")
    assert purge_expired_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_purge_keeps_keys_within_the_ttl(purchaser, store, listing):
    post(purchaser, order_body(store, listing), "recent")
    age_keys(settings.IDEMPOTENCY_KEY_TTL - datetime.timedelta(hours=1))
    assert purge_expired_keys() == 0
    assert IdempotencyKey.objects.count() == 1


def test_expired_key_may_be_used_again_even_before_the_purge(purchaser, store, listing):
    post(purchaser, order_body(store, listing), "order-1")
    age_keys(settings.IDEMPOTENCY_KEY_TTL + datetime.timedelta(minutes=1))
    again = post(purchaser, order_body(store, listing, "15"), "order-1")
    assert again.status_code == 201, again.content
    assert "Idempotent-Replayed" not in again.headers
    assert Order.objects.count() == 2
    record = IdempotencyKey.objects.get()  # the expired row was replaced, not kept beside it
    assert record.response_body["id"] == again.json()["id"]


def test_key_reused_after_the_purge_creates_a_new_order(purchaser, store, listing):
    first = post(purchaser, order_body(store, listing), "order-1")
    age_keys(settings.IDEMPOTENCY_KEY_TTL + datetime.timedelta(hours=2))
    purge_expired_keys()
    again = post(purchaser, order_body(store, listing), "order-1")
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert reserved(listing) == D("20")


def test_over_long_key_is_400(purchaser, store, listing):
    response = post(purchaser, order_body(store, listing), "k" * 256)
    assert_error(response, 400, field="Idempotency-Key")
    assert not Order.objects.exists()


def test_key_of_255_characters_is_accepted(purchaser, store, listing):
    key = "k" * 255
    assert post(purchaser, order_body(store, listing), key).status_code == 201
    assert post(purchaser, order_body(store, listing), key).headers["Idempotent-Replayed"] == "true"


def test_empty_key_is_400(purchaser, store, listing):
    assert_error(post(purchaser, order_body(store, listing), ""), 400, field="Idempotency-Key")
    assert not Order.objects.exists()


# --- Other creating POSTs ---------------------------------------------------------------------


def test_household_create_replays(manager, cooperative):
    data = {"cooperative": cooperative.pk, "name": "王大山", "village": "石屯村"}
    first = post(manager, data, "hh-1", url="/api/v1/households/")
    again = post(manager, data, "hh-1", url="/api/v1/households/")
    assert first.status_code == again.status_code == 201, again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Household.objects.count() == 1


def test_lot_replay_does_not_add_stock_twice(manager, cooperative, listing):
    household = HouseholdFactory(cooperative=cooperative)
    data = {
        "listing": listing.pk,
        "code": "FM-2026-03-01",
        "harvest_date": str(timezone.localdate()),
        "quantity": "50",
        "contributions": [{"household": household.pk, "quantity": "50"}],
    }
    first = post(manager, data, "lot-1", url="/api/v1/lots/")
    again = post(manager, data, "lot-1", url="/api/v1/lots/")
    assert first.status_code == again.status_code == 201, again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Lot.objects.count() == 1
    listing.refresh_from_db()
    assert listing.stock_on_hand == D("150")


# --- Concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_order(purchaser_user, store, listing):
    """Two connections send the same request at once: the second waits on the key's unique
    index, then replays the first's answer."""
    clients = [client_for(purchaser_user), client_for(purchaser_user)]
    barrier = threading.Barrier(len(clients))
    responses = [None] * len(clients)

    def send(index):
        try:
            barrier.wait(timeout=10)
            responses[index] = post(clients[index], order_body(store, listing), "race-1")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r.status_code for r in responses] == [201, 201], [r.content for r in responses]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert reserved(listing) == D("10")
