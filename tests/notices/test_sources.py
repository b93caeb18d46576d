"""Every source the apps record through backend.outbox becomes its catalog event, told to the
table's groups: the whole lifecycle of a part, money received, a statement paid out, a
payment overdue."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from notices import catalog
from notices.models import Notice
from orders.services import transitions
from payments.services.collecting import AllocationRequest, bank_transfer_record
from payments.services.overdue import orders_flag_overdue
from payments.services.payouts import bank_batch_create, bank_batch_mark_paid
from payments.services.settlement import settlement_run
from tests.factories import (
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
    place_order,
)

pytestmark = pytest.mark.django_db


def traced_listing(cooperative):
    """A listing with a lot traced to a household: what packing picks from."""
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    lot = LotFactory(listing=listing, quantity=Decimal("100"))
    LotContributionFactory(
        lot=lot, household=HouseholdFactory(cooperative=cooperative), quantity=Decimal("100")
    )
    return listing


def inbox_types(user) -> list[str]:
    return list(
        Notice.objects.filter(user=user, channel="inbox")
        .order_by("pk")
        .values_list("event_type", flat=True)
    )


def test_a_part_from_placing_to_payout_tells_each_party_once(
    purchaser_user, manager_user, staff_user, organisation, store, cooperative
):
    order = place_order(purchaser_user, store, (traced_listing(cooperative), "10"))
    part = order.fulfilments.get()
    for move in ("confirm", "pack", "ship", "deliver", "complete"):
        getattr(transitions, f"fulfilment_{move}")(fulfilment=part, user=staff_user)
    order.refresh_from_db()
    bank_transfer_record(
        user=staff_user,
        organisation=organisation,
        bank_reference="SRC-1",
        amount=order.total,
        received_on=timezone.localdate(),
        allocations=[AllocationRequest(order.pk)],
    )
    settlement_run(user=staff_user)
    bank_batch_mark_paid(batch=bank_batch_create(user=staff_user), user=staff_user)

    assert inbox_types(purchaser_user) == [
        catalog.ORDER_PLACED,
        catalog.FULFILMENT_CONFIRMED,
        catalog.FULFILMENT_SHIPPED,
        catalog.PAYMENT_RECEIVED,
    ]
    assert inbox_types(manager_user) == [
        catalog.ORDER_PLACED,
        catalog.FULFILMENT_DELIVERED,
        catalog.FULFILMENT_COMPLETED,
        catalog.STATEMENT_PAID,
    ]
    paid = Notice.objects.get(user=manager_user, event_type=catalog.STATEMENT_PAID, channel="sms")
    assert paid.event_key.startswith("statement:") and paid.event_key.endswith(":paid")
    assert paid.params["amount"].startswith("¥")
    delivered = Notice.objects.get(user=manager_user, event_type=catalog.FULFILMENT_DELIVERED)
    assert delivered.payload["data"]["short"] is False
    assert delivered.payload["data"]["rejected"] is False


def test_an_overdue_payment_tells_the_buyer_and_staff(
    purchaser_user, approver_user, manager_user, staff_user, store, cooperative
):
    listing = traced_listing(cooperative)
    part = place_order(purchaser_user, store, (listing, "10")).fulfilments.get()
    for move in ("confirm", "pack", "ship", "deliver"):
        getattr(transitions, f"fulfilment_{move}")(fulfilment=part, user=staff_user)

    assert orders_flag_overdue(today=timezone.localdate() + datetime.timedelta(days=2)) == 1

    overdue = Notice.objects.filter(event_type=catalog.PAYMENT_OVERDUE)
    assert {(n.user_id, n.channel) for n in overdue} == {
        (purchaser_user.pk, "inbox"),
        (approver_user.pk, "inbox"),
        (approver_user.pk, "sms"),
        (staff_user.pk, "inbox"),
    }


def test_an_expired_reservation_is_told_as_such(purchaser_user, manager_user, store, cooperative):
    from orders.services.transitions import expire_reservations

    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    place_order(purchaser_user, store, (listing, "10"))
    expire_reservations(now=timezone.now() + datetime.timedelta(days=30))

    assert inbox_types(manager_user)[-1] == catalog.FULFILMENT_RESERVATION_EXPIRED
    assert inbox_types(purchaser_user)[-1] == catalog.FULFILMENT_RESERVATION_EXPIRED


def test_partner_systems_hear_through_a_registered_resolver_and_nobody_before(
    purchaser_user, manager_user, store, cooperative
):
    from notices import recipients

    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    partners = recipients.unregister_resolver(catalog.PARTNER_SYSTEMS)  # as if not installed
    try:
        place_order(purchaser_user, store, (listing, "10"))
        assert not Notice.objects.filter(channel="webhook").exists()

        recipients.register_resolver(
            catalog.PARTNER_SYSTEMS, lambda event_type, event: [f"webhook:{event.organisation_id}"]
        )
        order = place_order(purchaser_user, store, (listing, "10"))
    finally:
        recipients.register_resolver(catalog.PARTNER_SYSTEMS, partners)
    [hook] = Notice.objects.filter(channel="webhook")
    assert hook.user is None and hook.recipient_key == f"webhook:{order.organisation_id}"
    assert hook.payload["type"] == "order.placed" and hook.payload["data"]["order"] == order.pk
    assert hook.status == "pending"
