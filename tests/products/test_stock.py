"""products.stock moves stock; the database constraints hold even when code goes around it."""

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from products import stock
from products.models import Listing, LotContribution, PriceTier
from tests.factories import (
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
)

pytestmark = pytest.mark.django_db


@contextmanager
def raises_constraint(name: str):
    """The database refuses, naming the constraint; the savepoint keeps the test's
    transaction usable."""
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        yield


# --- stock_receive ----------------------------------------------------------------------------


def test_stock_receive_adds_to_stock_on_hand():
    listing = ListingFactory(stock_on_hand=Decimal("100"))
    stock.stock_receive(listing_id=listing.pk, quantity=Decimal("12.5"))
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("112.5")
    assert listing.status == Listing.Status.ACTIVE


def test_stock_receive_brings_sold_out_back_to_active():
    listing = ListingFactory(stock_on_hand=0, status=Listing.Status.SOLD_OUT)
    stock.stock_receive(listing_id=listing.pk, quantity=Decimal("1"))
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE


def test_stock_receive_counts_available_not_on_hand():
    listing = ListingFactory(
        stock_on_hand=Decimal("10"), stock_reserved=Decimal("10"), status="sold_out"
    )
    stock.stock_receive(listing_id=listing.pk, quantity=Decimal("5"))
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    assert listing.available_quantity == Decimal("5")


@pytest.mark.parametrize("status", ["draft", "paused"])
def test_stock_receive_leaves_drafts_and_paused_listings_alone(status):
    listing = ListingFactory(stock_on_hand=0, status=status)
    stock.stock_receive(listing_id=listing.pk, quantity=Decimal("5"))
    listing.refresh_from_db()
    assert listing.status == status
    assert listing.stock_on_hand == Decimal("5")


@pytest.mark.parametrize("quantity", [Decimal("0"), Decimal("-1")])
def test_stock_receive_refuses_non_positive_quantity(quantity):
    listing = ListingFactory(stock_on_hand=Decimal("100"))
    with pytest.raises(ValueError):
        stock.stock_receive(listing_id=listing.pk, quantity=quantity)
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("100")


# --- stocks_consume ----------------------------------------------------------------------------


@pytest.mark.parametrize("one_statement", [True, False], ids=["one statement", "read and write"])
def test_stocks_consume_takes_shipped_goods_off_on_hand_and_reserved(one_statement):
    """The one statement (PostgreSQL) and the read and write (SQLite) move the same stock; a
    listing named twice (two parts of one order) is consumed twice; the status stays, as
    what is available does not change."""
    sold_out = ListingFactory(
        stock_on_hand=Decimal("30"), stock_reserved=Decimal("30"), status="sold_out"
    )
    active = ListingFactory(stock_on_hand=Decimal("100"), stock_reserved=Decimal("40.5"))
    untouched = ListingFactory(stock_on_hand=Decimal("100"), stock_reserved=Decimal("40"))
    stock.stocks_consume(
        moves=[
            (sold_out.pk, Decimal("30")),
            (active.pk, Decimal("10")),
            (active.pk, Decimal("0.5")),
            (untouched.pk, Decimal("0")),
        ],
        one_statement=one_statement,
    )
    for listing in (sold_out, active, untouched):
        listing.refresh_from_db()
    assert (sold_out.stock_on_hand, sold_out.stock_reserved, sold_out.status) == (0, 0, "sold_out")
    assert (active.stock_on_hand, active.stock_reserved, active.status) == (
        Decimal("89.5"),
        Decimal("30"),
        "active",
    )
    assert (untouched.stock_on_hand, untouched.stock_reserved) == (100, 40)


@pytest.mark.parametrize("one_statement", [True, False], ids=["one statement", "read and write"])
def test_stocks_consume_above_what_is_reserved_is_refused_by_the_database(one_statement):
    listing = ListingFactory(stock_on_hand=Decimal("100"), stock_reserved=Decimal("10"))
    with raises_constraint("listing_reserved_gte_0"):
        stock.stocks_consume(moves=[(listing.pk, Decimal("15"))], one_statement=one_statement)
    listing.refresh_from_db()
    assert (listing.stock_on_hand, listing.stock_reserved) == (100, 10)


# --- Listing constraints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"stock_on_hand": Decimal("-1"), "stock_reserved": 0}, "listing_on_hand_gte_0"),
        ({"stock_reserved": Decimal("-1")}, "listing_reserved_gte_0"),
        ({"stock_reserved": Decimal("101")}, "listing_reserved_lte_on_hand"),
        ({"min_order_quantity": 0}, "listing_moq_gt_0"),
        ({"min_order_quantity": Decimal("-5")}, "listing_moq_gt_0"),
        ({"order_increment": 0}, "listing_increment_gt_0"),
        ({"lead_time_days": 366}, "listing_lead_time_lte_365"),
        ({"status": "deleted"}, "listing_status_valid"),
    ],
)
def test_listing_check_constraints_hold_in_the_database(changes, constraint):
    listing = ListingFactory(stock_on_hand=Decimal("100"))
    with raises_constraint(constraint):
        Listing.objects.filter(pk=listing.pk).update(**changes)
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("100")


def test_one_live_listing_per_cooperative_product_and_grade():
    live = ListingFactory(status="active")
    same = {"cooperative": live.cooperative, "product": live.product, "grade": live.grade}
    with raises_constraint("listing_one_live_per_cooperative_product_grade"):
        Listing.objects.create(
            **same, unit="kg", min_order_quantity=1, order_increment=1, status="sold_out"
        )
    draft = ListingFactory(**same, status="draft", tiers=[])
    with raises_constraint("listing_one_live_per_cooperative_product_grade"):
        Listing.objects.filter(pk=draft.pk).update(status="active")


def test_non_live_duplicates_and_other_grades_are_allowed():
    live = ListingFactory(status="active", grade="first")
    same = {"cooperative": live.cooperative, "product": live.product}
    ListingFactory(**same, grade="first", status="draft", tiers=[])
    ListingFactory(**same, grade="first", status="paused", tiers=[])
    ListingFactory(**same, grade="special", status="active", tiers=[])
    assert Listing.objects.filter(product=live.product).count() == 4


# --- Price tiers, lots, contributions ---------------------------------------------------------


def test_price_tier_threshold_is_unique_per_listing():
    listing = ListingFactory()  # tiers from 10 and from 100
    with raises_constraint("price_tier_unique_threshold"):
        PriceTier.objects.create(listing=listing, min_quantity=Decimal("10"), unit_price=1)
    PriceTier.objects.create(listing=ListingFactory(), min_quantity=Decimal("5"), unit_price=1)


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"min_quantity": Decimal("5"), "unit_price": Decimal("0")}, "price_tier_price_gt_0"),
        ({"min_quantity": Decimal("5"), "unit_price": Decimal("-1")}, "price_tier_price_gt_0"),
        ({"min_quantity": Decimal("0"), "unit_price": Decimal("9")}, "price_tier_qty_gt_0"),
    ],
)
def test_price_tier_positive_price_and_quantity(values, constraint):
    listing = ListingFactory()
    with raises_constraint(constraint):
        PriceTier.objects.create(listing=listing, **values)


def test_lot_code_is_unique_per_listing():
    lot = LotFactory(code="FM-2019-001")
    with raises_constraint("lot_code_unique_per_listing"):
        LotFactory(listing=lot.listing, code="FM-2019-001")
    LotFactory(code="FM-2019-001")  # the same code on another listing


@pytest.mark.parametrize("quantity", [Decimal("0"), Decimal("-3")])
def test_lot_quantity_is_positive(quantity):
    # A negative lot also breaks "picked within quantity"; PostgreSQL names either.
    with raises_constraint("lot_quantity_gt_0|lot_picked_within_quantity"):
        LotFactory(quantity=quantity)


@pytest.mark.parametrize("quantity", [Decimal("0"), Decimal("-3")])
def test_lot_contribution_quantity_is_positive(quantity):
    lot = LotFactory()
    household = HouseholdFactory(cooperative=lot.listing.cooperative)
    with raises_constraint("contribution_quantity_gt_0"):
        LotContribution.objects.create(lot=lot, household=household, quantity=quantity)


def test_a_household_contributes_once_per_lot():
    contribution = LotContributionFactory()
    with raises_constraint("contribution_one_per_household"):
        LotContribution.objects.create(
            lot=contribution.lot, household=contribution.household, quantity=Decimal("1")
        )


# --- listings_lock ----------------------------------------------------------------------------


def _fields(row) -> dict:
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


@pytest.mark.parametrize("priced", [False, True])
def test_listings_lock_reads_what_the_orm_reads(priced, django_assert_num_queries):
    """Its hand-written statement gives the same rows, related rows and price tables as the
    ORM query it replaces, in one query."""
    from datetime import timedelta

    from django.utils import timezone

    from products import pricing
    from products.models import NegotiatedPrice, NegotiatedPriceTier
    from tests.factories import BuyerOrganisationFactory

    first = ListingFactory(tiers=[("10", "68.00"), ("50", "64.50")])
    second = ListingFactory(tiers=[("5", "20.00")])
    ListingFactory()  # not asked for
    organisation, today = BuyerOrganisationFactory(), timezone.localdate()
    price = NegotiatedPrice.objects.create(
        listing=second,
        organisation=organisation,
        valid_from=today - timedelta(days=1),
        valid_until=today + timedelta(days=1),
    )
    NegotiatedPriceTier.objects.create(
        negotiated_price=price, min_quantity=Decimal("5"), unit_price=Decimal("18.50")
    )
    prices_for = (organisation.pk, today) if priced else None
    expected = Listing.objects.select_related("cooperative", "product").filter(
        pk__in=[first.pk, second.pk]
    )
    if priced:
        expected = pricing.with_tables(expected, organisation_id=organisation.pk, on=today)
    expected = {listing.pk: listing for listing in expected}
    with transaction.atomic():
        with django_assert_num_queries(1):
            locked = stock.listings_lock([second.pk, first.pk, second.pk], prices_for=prices_for)
            assert list(locked) == [first.pk, second.pk]  # primary-key order
            for pk, listing in locked.items():
                assert _fields(listing) == _fields(expected[pk])
                assert _fields(listing.cooperative) == _fields(expected[pk].cooperative)
                assert _fields(listing.product) == _fields(expected[pk].product)
                assert not listing._state.adding
        if priced:
            for pk, listing in locked.items():
                assert pricing.tables_of(listing) == pricing.tables_of(expected[pk])
            assert pricing.tables_of(locked[second.pk])[0] == [(Decimal("5"), Decimal("18.50"))]
        else:
            assert not hasattr(locked[first.pk], "public_tiers_json")


@pytest.mark.django_db(transaction=True)
def test_listings_lock_needs_a_transaction():
    """Row locks outside a transaction would end with the statement: refused, as the ORM does."""
    from django.db.transaction import TransactionManagementError

    listing = ListingFactory()
    with pytest.raises(TransactionManagementError):
        stock.listings_lock([listing.pk])
