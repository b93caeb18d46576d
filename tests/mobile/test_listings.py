"""The Listings screen: the cooperative's listings with their stock, paused and put back on
sale through products' service once per form, under products.access."""

import gzip
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from products.models import Listing
from tests.factories import PASSWORD, ListingFactory, place_order

pytestmark = pytest.mark.django_db


def key_for(response, listing) -> str:
    """The Idempotency-Key of the listing's own form."""
    page = response.content.decode()
    card = page[page.index(f'id="listing-{listing.pk}"') :]
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', card)[1]


def card_of(response, listing) -> str:
    page = response.content.decode()
    card = page[page.index(f'id="listing-{listing.pk}"') :]
    return card[: card.index("</li>")]


@pytest.fixture
def honey(cooperative, purchaser_user, store):
    """On sale: 100 kg on hand, 20 of them reserved by an order."""
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    place_order(purchaser_user, store, (listing, "20"))
    return listing


def test_the_listings_show_their_stock_in_chinese(phone, honey, cooperative, other_cooperative):
    paused = ListingFactory(cooperative=cooperative, status=Listing.Status.PAUSED)
    foreign = ListingFactory(cooperative=other_cooperative)  # live: buyers see it, not here
    response = phone.get("/m/listings/")
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
    assert [row["listing"] for row in response.context["rows"]] == sorted(
        [honey, paused], key=lambda listing: (listing.product.name_zh, listing.pk)
    )
    card = card_of(response, honey)
    assert honey.product.name_zh in card and "启用" in card
    assert "现有" in card and "100 公斤" in card
    assert "已预留" in card and "20 公斤" in card
    assert "可售" in card and "80 公斤" in card
    assert "暂停销售" in card
    assert "上架销售" in card_of(response, paused)
    assert f'id="listing-{foreign.pk}"' not in response.content.decode()


def test_pause_then_resume_and_a_retry_applies_once(phone, honey):
    page = phone.get("/m/listings/")
    body = {"action": "pause", "idempotency_key": key_for(page, honey)}
    response = phone.post(f"/m/listings/{honey.pk}/", body)
    assert response.status_code == 302
    assert response["Location"] == f"/m/listings/#listing-{honey.pk}"
    honey.refresh_from_db()
    assert honey.status == Listing.Status.PAUSED
    assert "已暂停销售" in phone.get("/m/listings/").content.decode()

    page = phone.get("/m/listings/")
    resume = {"action": "resume", "idempotency_key": key_for(page, honey)}
    assert phone.post(f"/m/listings/{honey.pk}/", resume).status_code == 302
    honey.refresh_from_db()
    assert honey.status == Listing.Status.ACTIVE

    # The pause form sent again (a second tap, a dropped connection): nothing applied twice,
    # the listing stays on sale.
    again = phone.post(f"/m/listings/{honey.pk}/", body, follow=True)
    assert "已经处理过了" in again.content.decode()
    honey.refresh_from_db()
    assert honey.status == Listing.Status.ACTIVE


def test_a_refused_resume_is_shown_beside_the_listing(phone, honey, cooperative):
    """Two live listings of one product and grade: products refuses the second."""
    twin = ListingFactory(
        cooperative=cooperative,
        product=honey.product,
        grade=honey.grade,
        status=Listing.Status.PAUSED,
    )
    page = phone.get("/m/listings/")
    response = phone.post(
        f"/m/listings/{twin.pk}/", {"action": "resume", "idempotency_key": key_for(page, twin)}
    )
    assert response.status_code == 400
    card = card_of(response, twin)
    assert f"该合作社已有此产品和等级的在售商品（#{honey.pk}）" in card, card
    assert "errorlist" not in card_of(response, honey)
    twin.refresh_from_db()
    assert twin.status == Listing.Status.PAUSED


def test_a_form_without_its_key_is_refused_and_nothing_changes(phone, honey):
    response = phone.post(f"/m/listings/{honey.pk}/", {"action": "pause"})
    assert response.status_code == 400 and "errorlist" in card_of(response, honey)
    response = phone.post(f"/m/listings/{honey.pk}/", {"action": "delete", "idempotency_key": "k"})
    assert response.status_code == 400
    honey.refresh_from_db()
    assert honey.status == Listing.Status.ACTIVE


def test_another_cooperatives_listing_is_not_found_and_not_paused(phone, other_cooperative):
    foreign = ListingFactory(cooperative=other_cooperative)
    for url in (f"/m/listings/{foreign.pk}/", "/m/listings/999999/"):
        assert phone.get(url).status_code == 404
    response = phone.post(
        f"/m/listings/{foreign.pk}/", {"action": "pause", "idempotency_key": "k1"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Listing.Status.ACTIVE


def test_a_listing_url_opened_shows_it_in_the_list(phone, honey):
    response = phone.get(f"/m/listings/{honey.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/m/listings/#listing-{honey.pk}"


def test_buyers_and_signed_out_visitors_are_kept_out(honey, purchaser_user):
    response = Client().get("/m/listings/")
    assert response.status_code == 302 and response["Location"] == "/m/login/?next=/m/listings/"
    response = Client().post(f"/m/listings/{honey.pk}/", {"action": "pause"})
    assert response.status_code == 302
    buyer = Client()
    buyer.force_login(purchaser_user)
    assert buyer.get("/m/listings/").status_code == 403
    response = buyer.post(f"/m/listings/{honey.pk}/", {"action": "pause", "idempotency_key": "k"})
    assert response.status_code == 403 and "此页面供合作社负责人使用" in response.content.decode()
    honey.refresh_from_db()
    assert honey.status == Listing.Status.ACTIVE


def test_english_when_the_browser_prefers_it(manager_user, honey):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    client.post("/m/login/", {"username": "13800000002", "password": PASSWORD})
    page = client.get("/m/listings/").content.decode()
    assert "On hand" in page and "80 kg" in page and "Pause" in page


def test_the_query_count_does_not_grow_with_the_listings(phone, cooperative):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert phone.get("/m/listings/").status_code == 200
        return len(captured)

    ListingFactory(cooperative=cooperative)
    one = queries()
    for _ in range(5):
        ListingFactory(cooperative=cooperative)
    assert queries() == one


def test_the_screen_fits_in_20_kb(phone, cooperative):
    for _ in range(40):
        ListingFactory(cooperative=cooperative, packaging="24 × 500 g jars per case")
    response = phone.get("/m/listings/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert len(response.content) <= 20_000
    assert len(gzip.decompress(response.content)) > 20_000  # it does hold the 40 listings
