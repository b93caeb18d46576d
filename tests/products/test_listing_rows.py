"""The listing list is built from plain rows for speed (products.selectors.listing_rows); the
detail uses ListingSerializer. Both must give the same listing, field for field."""

from decimal import Decimal

from tests.factories import CertificationFactory, ListingFactory


def test_list_rows_match_the_serializer_field_for_field(buyer, cooperative):
    organic = CertificationFactory(code="organic")
    gi = CertificationFactory(code="gi", name_zh="地理标志产品", name_en="GI")
    listings = [
        ListingFactory(cooperative=cooperative, certifications=[organic, gi]),
        ListingFactory(tiers=[("5", "12.50")], stock_reserved=Decimal("3.5")),
        ListingFactory(status="sold_out", stock_on_hand=Decimal("0"), certifications=[gi]),
    ]
    listed = {item["id"]: item for item in buyer.get("/api/v1/listings/").json()["results"]}
    assert set(listed) == {listing.id for listing in listings}
    for listing in listings:
        detail = buyer.get(f"/api/v1/listings/{listing.id}/").json()
        assert listed[listing.id] == detail
    assert listed[listings[1].id]["available_quantity"] == "96.500"
    assert listed[listings[0].id]["certifications"] == ["gi", "organic"]


def test_list_rows_honour_sparse_fields(buyer):
    listing = ListingFactory()
    response = buyer.get("/api/v1/listings/?fields=id,tiers,base_price")
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item == {
        "id": listing.id,
        "base_price": "68.00",
        "tiers": [
            {"min_quantity": "10.000", "unit_price": "68.00"},
            {"min_quantity": "100.000", "unit_price": "60.00"},
        ],
    }
