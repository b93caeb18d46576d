"""products.pricing: the unit price is the tier with the highest threshold the quantity
reaches, from the buyer's negotiated table valid on the day, else the public tiers."""

import datetime
from decimal import Decimal

import pytest

from products import pricing
from products.models import NegotiatedPrice, NegotiatedPriceTier
from tests.factories import BuyerOrganisationFactory, ListingFactory

D = Decimal
TABLE = [(D("10"), D("68.00")), (D("100"), D("60.00")), (D("500"), D("55.50"))]
DAY = datetime.date(2026, 3, 10)


# --- unit_price_in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price"),
    [
        ("10", "68.00"),
        ("99", "68.00"),
        ("99.999", "68.00"),
        ("100", "60.00"),
        ("499.999", "60.00"),
        ("500", "55.50"),
        ("100000", "55.50"),
    ],
)
def test_unit_price_is_the_highest_tier_the_quantity_reaches(quantity, price):
    assert pricing.unit_price_in(TABLE, D(quantity)) == D(price)


def test_quantity_below_the_first_tier_has_no_price():
    assert pricing.unit_price_in(TABLE, D("9.999")) is None


def test_empty_table_has_no_price():
    assert pricing.unit_price_in([], D("10")) is None


# --- public_tables ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_public_tables_list_each_listings_tiers_in_rising_quantity():
    listing = ListingFactory(tiers=[("100", "60.00"), ("10", "68.00"), ("50", "64.50")])
    other = ListingFactory(tiers=[("5", "20.00")])
    tables = pricing.public_tables([listing.pk, other.pk])
    assert tables == {
        listing.pk: [(D("10"), D("68.00")), (D("50"), D("64.50")), (D("100"), D("60.00"))],
        other.pk: [(D("5"), D("20.00"))],
    }


@pytest.mark.django_db
def test_public_tables_only_for_the_listings_asked():
    listing = ListingFactory()
    ListingFactory()
    assert set(pricing.public_tables([listing.pk])) == {listing.pk}


# --- negotiated_tables ------------------------------------------------------------------------


def negotiated(listing, organisation, valid_from, valid_until, tiers):
    """Written directly: the service refuses overlapping ranges, pricing must still choose."""
    price = NegotiatedPrice.objects.create(
        listing=listing, organisation=organisation, valid_from=valid_from, valid_until=valid_until
    )
    NegotiatedPriceTier.objects.bulk_create(
        NegotiatedPriceTier(negotiated_price=price, min_quantity=D(q), unit_price=D(p))
        for q, p in tiers
    )
    return price


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("valid_from", "valid_until", "applies"),
    [
        (DAY, DAY, True),  # both ends inclusive
        (DAY - datetime.timedelta(days=30), DAY + datetime.timedelta(days=30), True),
        (DAY + datetime.timedelta(days=1), DAY + datetime.timedelta(days=30), False),
        (DAY - datetime.timedelta(days=30), DAY - datetime.timedelta(days=1), False),
    ],
)
def test_negotiated_table_applies_only_inside_its_date_range(valid_from, valid_until, applies):
    listing = ListingFactory()
    organisation = BuyerOrganisationFactory()
    negotiated(listing, organisation, valid_from, valid_until, [("10", "55.00")])
    tables = pricing.negotiated_tables(
        organisation_id=organisation.pk, listing_ids=[listing.pk], on=DAY
    )
    assert tables == ({listing.pk: [(D("10"), D("55.00"))]} if applies else {})


@pytest.mark.django_db
def test_negotiated_table_is_only_for_its_organisation():
    listing = ListingFactory()
    organisation, other = BuyerOrganisationFactory(), BuyerOrganisationFactory()
    negotiated(listing, organisation, DAY, DAY, [("10", "55.00")])
    assert (
        pricing.negotiated_tables(organisation_id=other.pk, listing_ids=[listing.pk], on=DAY) == {}
    )


@pytest.mark.django_db
def test_overlapping_negotiated_tables_the_latest_starting_wins():
    listing = ListingFactory()
    organisation = BuyerOrganisationFactory()
    negotiated(
        listing,
        organisation,
        DAY - datetime.timedelta(days=10),
        DAY + datetime.timedelta(days=10),
        [("10", "58.00"), ("100", "52.00")],
    )
    negotiated(listing, organisation, DAY - datetime.timedelta(days=1), DAY, [("10", "56.00")])
    tables = pricing.negotiated_tables(
        organisation_id=organisation.pk, listing_ids=[listing.pk], on=DAY
    )
    assert tables == {listing.pk: [(D("10"), D("56.00"))]}


@pytest.mark.django_db
def test_negotiated_tiers_come_in_rising_quantity():
    listing = ListingFactory()
    organisation = BuyerOrganisationFactory()
    negotiated(listing, organisation, DAY, DAY, [("100", "50.00"), ("10", "58.00")])
    tables = pricing.negotiated_tables(
        organisation_id=organisation.pk, listing_ids=[listing.pk], on=DAY
    )
    assert tables[listing.pk] == [(D("10"), D("58.00")), (D("100"), D("50.00"))]
