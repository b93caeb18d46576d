"""Buyers' and partner systems' listing pages are cached under a catalog version
(products/catalog_cache.py). Every kind of catalog change must show on the next request.

These tests commit (transaction=True): the version is replaced after commit, as in production.
"""

import gzip
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from products import services, stock
from products.models import Certification
from tests.factories import CategoryFactory, CertificationFactory, ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/listings/"


def get(client, url=URL):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response, len(queries)


def only(client, url=URL) -> dict:
    (row,) = get(client, url)[0].json()["results"]
    return row


def cached(client, url=URL):
    """The page twice: the second answer is the same bytes and reads nothing from the
    database (the token is remembered too)."""
    first, _ = get(client, url)
    again, queries = get(client, url)
    assert again.content == first.content
    assert queries == 0
    return first


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative, certifications=[CertificationFactory()])


def test_a_page_is_answered_from_the_cache_with_the_same_bytes(buyer, listing):
    cached(buyer)
    with_fields = cached(buyer, f"{URL}?fields=id,base_price").json()["results"]
    assert with_fields == [{"id": listing.id, "base_price": "68.00"}]


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_managers_and_staff_are_never_cached(request, role, listing):
    client = request.getfixturevalue(role)
    get(client)
    _response, queries = get(client)
    assert queries > 0


def test_listing_change(buyer, manager, listing):
    cached(buyer)
    response = manager.patch(f"{URL}{listing.pk}/", {"packaging": "12 × 1 kg"}, format="json")
    assert response.status_code == 200, response.content
    assert only(buyer)["packaging"] == "12 × 1 kg"


def test_listing_paused_leaves_the_list(buyer, manager, listing):
    cached(buyer)
    response = manager.patch(f"{URL}{listing.pk}/", {"status": "paused"}, format="json")
    assert response.status_code == 200, response.content
    assert get(buyer)[0].json()["results"] == []


def test_tier_change(buyer, manager, listing):
    cached(buyer)
    tiers = [{"min_quantity": "10", "unit_price": "70.00"}]
    response = manager.patch(f"{URL}{listing.pk}/", {"tiers": tiers}, format="json")
    assert response.status_code == 200, response.content
    row = only(buyer)
    assert row["base_price"] == "70.00"
    assert row["tiers"] == [{"min_quantity": "10.000", "unit_price": "70.00"}]


@pytest.mark.parametrize("move", ["receive", "reserve", "release", "consume"])
def test_stock_moves(buyer, listing, move):
    with transaction.atomic():
        stock.stock_reserve(listing=stock.listing_lock(listing.pk), quantity=Decimal("10"))
    before = cached(buyer).json()["results"][0]
    with transaction.atomic():
        if move == "receive":
            stock.stock_receive(listing_id=listing.pk, quantity=Decimal("5"))
        elif move == "consume":  # locks its listings itself (one statement on PostgreSQL)
            stock.stock_consume(listing_id=listing.pk, quantity=Decimal("4"))
        else:
            mover = getattr(stock, f"stock_{move}")
            mover(listing=stock.listing_lock(listing.pk), quantity=Decimal("4"))
    after = only(buyer)
    assert after != before
    expected = {"receive": "95.000", "reserve": "86.000", "release": "94.000"}
    assert after["available_quantity"] == expected.get(move, "90.000")


def test_listing_certifications_change(buyer, manager, listing):
    CertificationFactory(code="organic")
    cached(buyer)
    response = manager.patch(f"{URL}{listing.pk}/", {"certifications": ["organic"]}, format="json")
    assert response.status_code == 200, response.content
    assert only(buyer)["certifications"] == ["organic"]


def test_certification_renamed(buyer, listing):
    cached(buyer)
    certification = listing.certifications.get()
    Certification.objects.filter(pk=certification.pk).delete()  # codes are keys: replace it
    assert only(buyer)["certifications"] == []


def test_product_renamed(buyer, listing):
    cached(buyer)
    services.product_update(product=listing.product, data={"name_en": "wild honey"})
    assert only(buyer)["product_name_en"] == "wild honey"


def test_cooperative_renamed_or_deactivated(buyer, listing):
    cached(buyer)
    cooperative = listing.cooperative
    cooperative.name_zh = "石屯新合作社"
    cooperative.save()
    assert only(buyer)["cooperative_name"] == "石屯新合作社"
    cooperative.is_active = False
    cooperative.save()
    assert get(buyer)[0].json()["results"] == []


def test_category_moved_changes_the_category_filter(buyer, listing):
    top = CategoryFactory()
    url = f"{URL}?category={top.pk}"
    assert cached(buyer, url).json()["results"] == []
    category = listing.product.category
    category.parent = top
    category.save()
    assert only(buyer, url)["id"] == listing.id


def test_new_listing_appears(buyer, cooperative, listing):
    cached(buyer)
    ListingFactory(cooperative=cooperative, product=ProductFactory())
    assert len(get(buyer)[0].json()["results"]) == 2


def test_a_rolled_back_change_keeps_the_page_right(buyer, listing):
    page = cached(buyer).content
    with pytest.raises(RuntimeError), transaction.atomic():
        services.product_update(product=listing.product, data={"name_en": "never"})
        raise RuntimeError
    assert get(buyer)[0].content == page


def test_inside_a_transaction_with_changes_the_cache_is_not_used(buyer, listing):
    cached(buyer)
    with transaction.atomic():
        services.product_update(product=listing.product, data={"name_en": "uncommitted"})
        # Same connection, uncommitted write: the page must be built, and not stored.
        assert only(buyer)["product_name_en"] == "uncommitted"
        transaction.set_rollback(True)
    assert only(buyer)["product_name_en"] != "uncommitted"


def test_without_a_shared_cache_nothing_is_cached(buyer, listing, settings):
    settings.CATALOG_PAGE_CACHE_SECONDS = 0
    get(buyer)
    _response, queries = get(buyer)
    assert queries >= 3


def test_a_manager_never_gets_the_page_buyers_share(buyer, manager, cooperative, listing):
    ListingFactory(cooperative=cooperative, product=ProductFactory(), status="draft")
    assert len(cached(buyer).json()["results"]) == 1
    # The manager's request reads the shared page with its token (one round trip) but must
    # not answer with it: their list also holds their cooperative's draft.
    assert len(get(manager)[0].json()["results"]) == 2


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_cached_page_answers_what_a_built_one_does(buyer, listing, settings, encoding):
    headers = {"HTTP_ACCEPT_ENCODING": encoding}

    def answer(response):
        body = response.content
        if response.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        vary = {part.strip() for part in response["Vary"].split(",")}
        etag = response["ETag"].removeprefix("W/")
        return body, vary, etag, response["Content-Type"], response.get("Content-Encoding")

    settings.CATALOG_PAGE_CACHE_SECONDS = 0
    built = buyer.get(URL, **headers)
    settings.CATALOG_PAGE_CACHE_SECONDS = 60
    buyer.get(URL, **headers)
    with CaptureQueriesContext(connection) as queries:
        cached_answer = buyer.get(URL, **headers)
    assert len(queries) == 0
    assert answer(cached_answer) == answer(built)
    assert cached_answer["ETag"] == built["ETag"]
