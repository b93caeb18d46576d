"""Payments tests' fixtures: orders taken all the way through their lifecycle by the real
services (so settlement reads real pick lists, lots and household contributions), and the fake
Stripe server (tests/payments/fake_stripe.py), started once per test session on 127.0.0.1,
emptied before each test that asks for it, with the settings pointed at it, so the real
stripe SDK in payments/stripe_gateway.py talks to it over HTTP."""

import datetime
from decimal import Decimal

import pytest

from orders.services import transitions
from payments.services.collecting import AllocationRequest, bank_transfer_record
from tests.factories import (
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
    place_order,
)

from .fake_stripe import FakeStripe


def traced_listing(cooperative, households, *, price="68.00", lot_quantity="100"):
    """An active listing whose one lot came from ``households`` = [(household, quantity)]."""
    listing = ListingFactory(
        cooperative=cooperative,
        stock_on_hand=Decimal(lot_quantity),
        tiers=[("10", price)],
    )
    lot = LotFactory(listing=listing, quantity=Decimal(lot_quantity))
    for household, quantity in households:
        LotContributionFactory(lot=lot, household=household, quantity=Decimal(quantity))
    return listing


def deliver(order, staff_user, *, accepted=None, complete=True, confirm=None):
    """Confirm (``confirm``: {listing: quantity} short), pack, ship, deliver (``accepted``:
    {listing: (quantity, issue, note)}) and complete every part of ``order``."""
    for fulfilment in order.fulfilments.order_by("pk"):
        lines = {line.listing_id: line for line in fulfilment.lines.all()}
        quantities = {
            lines[listing.pk].pk: Decimal(q)
            for listing, q in (confirm or {}).items()
            if listing.pk in lines
        }
        transitions.fulfilment_confirm(
            fulfilment=fulfilment, user=staff_user, quantities=quantities
        )
        transitions.fulfilment_pack(fulfilment=fulfilment, user=staff_user)
        transitions.fulfilment_ship(fulfilment=fulfilment, user=staff_user)
        taken = {
            lines[listing.pk].pk: (Decimal(q), issue, note)
            for listing, (q, issue, note) in (accepted or {}).items()
            if listing.pk in lines
        }
        transitions.fulfilment_deliver(fulfilment=fulfilment, user=staff_user, accepted=taken)
        if complete:
            transitions.fulfilment_complete(fulfilment=fulfilment, user=staff_user)
    order.refresh_from_db()
    return order


def paid_by_transfer(order, staff_user) -> None:
    """The buyer pays ``order`` in full by bank transfer (对公转账), matched to it."""
    bank_transfer_record(
        user=staff_user,
        organisation=order.organisation,
        bank_reference=f"PAY-{order.pk}",
        amount=order.total,
        received_on=datetime.date(2026, 11, 28),
        allocations=[AllocationRequest(order.pk, None)],
    )


@pytest.fixture
def households(cooperative):
    """Three households of `cooperative`; the first on the poverty list."""
    return [
        HouseholdFactory(
            cooperative=cooperative, on_poverty_list=True, poverty_registration_no="522326-0001"
        ),
        HouseholdFactory(cooperative=cooperative),
        HouseholdFactory(cooperative=cooperative),
    ]


@pytest.fixture
def honey(cooperative, households):
    """Honey at 68.00/kg from a 100 kg lot: 50, 30 and 20 kg from the three households."""
    return traced_listing(
        cooperative, [(households[0], "50"), (households[1], "30"), (households[2], "20")]
    )


@pytest.fixture
def delivered_order(purchaser_user, store, honey, staff_user):
    """20 kg of honey ordered, 15 kg accepted (5 kg rejected for quality): 1,020.00 owed."""
    order = place_order(purchaser_user, store, (honey, "20"))
    return deliver(
        order,
        staff_user,
        accepted={honey: ("15", "quality", "5 kg crystallised")},
    )


@pytest.fixture(scope="session")
def fake_stripe_server():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server, settings):
    """A fresh fake Stripe with the Stripe rail switched on against it."""
    fake_stripe_server.reset()
    settings.STRIPE_API_KEY = fake_stripe_server.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake_stripe_server.webhook_secret
    settings.STRIPE_API_BASE = fake_stripe_server.url
    yield fake_stripe_server
    assert fake_stripe_server.errors == [], "the fake Stripe server failed"
