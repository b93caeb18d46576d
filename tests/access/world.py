"""One small marketplace with a person in every role, for the access table
(tests/access/test_table.py)."""

import datetime
from decimal import Decimal

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import PartnerApiKey, User
from buyers.models import Membership
from logistics.services import runs_plan, schedule_create, shipment_record
from notices.models import Notice
from orders.services import transitions
from orders.services.imports import purchase_import_preview
from orders.services.standing import standing_order_create
from partners.services import webhook_endpoint_create
from payments.services.collecting import (
    AllocationRequest,
    bank_transfer_record,
    refund_record,
)
from payments.services.payouts import bank_batch_create
from payments.services.settlement import settlement_run
from products.services import negotiated_price_create
from tests.conftest import client_for
from tests.factories import (
    BuyerOrganisationFactory,
    CertificationFactory,
    CooperativeFactory,
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
    MembershipFactory,
    StoreFactory,
    UserFactory,
    place_order,
)

ROLES = ["anon", "staff", "manager", "other_manager", "purchaser", "approver", "foreign", "partner"]


def _settled_order(purchaser, store, listing, staff, organisation) -> dict:
    """A second order taken to completion, paid by bank transfer, settled and put in a bank
    batch: the rows of the payments routes."""
    order = place_order(purchaser, store, (listing, "10"))
    fulfilment = order.fulfilments.get()
    transitions.fulfilment_confirm(fulfilment=fulfilment, user=staff)
    transitions.fulfilment_pack(fulfilment=fulfilment, user=staff)
    transitions.fulfilment_ship(fulfilment=fulfilment, user=staff)
    transitions.fulfilment_deliver(fulfilment=fulfilment, user=staff)
    transitions.fulfilment_complete(fulfilment=fulfilment, user=staff)
    order.refresh_from_db()
    transfer, _created = bank_transfer_record(
        user=staff,
        organisation=organisation,
        bank_reference="WORLD-1",
        amount=order.total,
        received_on=timezone.localdate(),
        allocations=[AllocationRequest(order.pk)],
    )
    run = settlement_run(user=staff)
    batch = bank_batch_create(user=staff)
    # A complaint after settlement, refunded by bank: the refunds routes' row.
    refund, _created = refund_record(
        payment=transfer.allocations.get().payment,
        amount=Decimal("1.00"),
        reason="adjustment",
        fulfilment=fulfilment,
        idempotency_key="WORLD-REFUND-1",
        user=staff,
    )
    statement = run.statements.get()
    return {
        "bank_transfer": transfer.pk,
        "payment": transfer.allocations.get().payment_id,
        "refund": refund.pk,
        "statement": statement.pk,
        "settlement_run": run.pk,
        "payout": statement.payout.pk,
        "batch": batch.pk,
    }


def build_world() -> tuple[dict, dict]:
    """The rows every detail URL names, and a signed-in client per role. Each row belongs to
    `manager`'s cooperative and `purchaser`'s organisation (where it belongs to either)."""
    cooperative = CooperativeFactory()
    other_cooperative = CooperativeFactory()
    manager = UserFactory(role=User.Role.COOPERATIVE_MANAGER)
    cooperative.managers.add(manager)
    other_manager = UserFactory(role=User.Role.COOPERATIVE_MANAGER)
    other_cooperative.managers.add(other_manager)

    organisation = BuyerOrganisationFactory()
    store = StoreFactory(organisation=organisation)
    purchaser = MembershipFactory(organisation=organisation).user
    approver = MembershipFactory(organisation=organisation, role=Membership.Role.APPROVER).user
    partner = UserFactory(role=User.Role.PARTNER)
    MembershipFactory(organisation=organisation, user=partner)
    foreign_organisation = BuyerOrganisationFactory()
    StoreFactory(organisation=foreign_organisation)
    foreign = MembershipFactory(organisation=foreign_organisation).user
    staff = UserFactory(role=User.Role.STAFF, is_staff=True, is_superuser=True)

    household = HouseholdFactory(cooperative=cooperative)
    certification = CertificationFactory()
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("1000"))
    lot = LotFactory(listing=listing)
    LotContributionFactory(lot=lot, household=household, quantity=lot.quantity)
    today = timezone.localdate()
    negotiated = negotiated_price_create(
        listing=listing,
        organisation=organisation,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=30),
        tiers=[{"min_quantity": Decimal("10"), "unit_price": Decimal("50.00")}],
    )
    order = place_order(purchaser, store, (listing, "10"))  # placed: no approval threshold
    settled = _settled_order(purchaser, store, listing, staff, organisation)
    standing = standing_order_create(
        user=purchaser,
        store=store,
        weekday=0,
        lines=[{"listing": listing, "quantity": Decimal("10")}],
    )
    # A second order, confirmed, with its shipment, on a delivery run.
    travelling = place_order(purchaser, store, (listing, "10")).fulfilments.get()
    transitions.fulfilment_confirm(fulfilment=travelling, user=manager)
    schedule = schedule_create(
        name="daily", weekdays=list(range(7)), departure_time=datetime.time(6), cutoff_hours=12
    )
    runs_plan()
    start = timezone.now() + datetime.timedelta(days=2)
    shipment = shipment_record(
        user=manager,
        fulfilment=travelling,
        mode="own_vehicle",
        package_count=4,
        weight_kg=Decimal("10"),
        window_start=start,
        window_end=start + datetime.timedelta(hours=2),
    )
    # A purchase list's preview, ready to place: one row for the store.
    purchase_list = purchase_import_preview(
        user=purchaser,
        file_name="list.csv",
        content=f"listing,quantity,store\n{listing.pk},10,{store.pk}\n".encode(),
    )
    rows = {
        "cooperative": cooperative.pk,
        "household": household.pk,
        "category": listing.product.category_id,
        "certification": certification.code,
        "product": listing.product_id,
        "listing": listing.pk,
        "lot": lot.pk,
        "negotiated": negotiated.pk,
        "organisation": organisation.pk,
        "store": store.pk,
        "order": order.pk,
        "fulfilment": order.fulfilments.get().pk,
        "standing": standing.pk,
        **settled,
        "schedule": schedule.pk,
        "run": travelling.run_assignment.run_id,
        "shipment": shipment.pk,
        "purchase_import": purchase_list.pk,
        # The purchaser's inbox notice of the first order; a notice still to send (an SMS to
        # the manager), which staff cannot replay: it has not failed.
        "notice": Notice.objects.filter(user=purchaser, channel="inbox").earliest("pk").pk,
        "outbox": Notice.objects.filter(status="pending").earliest("pk").pk,
    }

    key, plain = PartnerApiKey.objects.create_key(user=partner, name="access table")
    rows["partner_key"] = key.prefix
    # Nobody listens on port 9 here: a ping answers at once (a refused connection).
    rows["webhook"] = webhook_endpoint_create(
        user=approver,
        organisation=organisation,
        url="http://127.0.0.1:9/hook",
        event_types=["order.placed"],
    ).pk
    partner_client = APIClient()
    partner_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    clients = {
        "anon": APIClient(),
        "staff": client_for(staff),
        "manager": client_for(manager),
        "other_manager": client_for(other_manager),
        "purchaser": client_for(purchaser),
        "approver": client_for(approver),
        "foreign": client_for(foreign),
        "partner": partner_client,
    }
    return rows, clients
