"""Rows the phone page's tests share: a manager with the demo's phone, and parts of orders
placed through the services, as the API would leave them."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import (
    PASSWORD,
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
    place_order,
)

MANAGER_PHONE = "+8613800000002"  # the demo's manager, typed "138 0000 0002" on a phone


@pytest.fixture
def manager_user(manager_user):
    manager_user.phone = MANAGER_PHONE
    manager_user.save(update_fields=["phone"])
    return manager_user


@pytest.fixture
def phone(manager_user):
    """A browser signed in as the manager (through the page's own sign-in)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    response = client.post("/m/login/", {"username": "138 0000 0002", "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return client


def placed_part(*, purchaser, store, cooperative, quantities=("10",), lots=True):
    """A new order's part for ``cooperative``, one line per quantity, each listing with two
    lots (the older harvest first) and a household behind each lot."""
    lines = []
    for index, quantity in enumerate(quantities):
        listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("500"))
        if lots:
            for days, code in ((20, "A"), (5, "B")):
                lot = LotFactory(
                    listing=listing,
                    code=f"L{listing.pk}-{code}",
                    harvest_date=timezone.localdate() - timezone.timedelta(days=days),
                    quantity=Decimal("30"),
                )
                LotContributionFactory(
                    lot=lot,
                    household=HouseholdFactory(cooperative=cooperative, name=f"农户{index}{code}"),
                    quantity=Decimal("30"),
                )
        lines.append((listing, quantity))
    return place_order(purchaser, store, *lines).fulfilments.get()
