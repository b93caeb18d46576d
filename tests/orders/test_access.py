"""Nobody sees another organisation's orders: /api/v1/orders/ for every role (list, detail,
events, cancel, approve, reorder), the partner's Api-Key placing for its organisation, and
the order list's filters."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from buyers.models import Membership
from orders.models import Fulfilment, FulfilmentStatus, Order, OrderEvent, StandingOrder
from orders.services import transitions as lifecycle_services
from orders.services.placement import LineRequest, order_place
from products.models import Listing
from tests.conftest import assert_error, client_for
from tests.factories import ListingFactory, MembershipFactory, StoreFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"
ACTIONS = ["cancel", "approve", "reorder"]


def detail(order) -> str:
    return f"{ORDERS}{order.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def place(user, store, *listings, quantity="10") -> Order:
    """Place an order through the service, one line of ``quantity`` per listing."""
    lines = [LineRequest(listing.pk, Decimal(quantity)) for listing in listings]
    return order_place(user=user, store=store, lines=lines).order


def snapshot(order) -> tuple:
    """What a refused request must leave untouched."""
    order.refresh_from_db()
    reserved = sorted(
        order.lines.values_list("listing__pk", "listing__stock_reserved").order_by("pk")
    )
    return (
        order.status,
        Order.objects.count(),
        OrderEvent.objects.count(),
        reserved,
    )


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


@pytest.fixture
def order(purchaser_user, store, listing):
    """An order of `organisation`, for `cooperative`'s listing."""
    return place(purchaser_user, store, listing)


@pytest.fixture
def other_order(other_purchaser_user, other_store, listing):
    """An order of `other_organisation`, for the same listing."""
    return place(other_purchaser_user, other_store, listing)


@pytest.fixture
def pending_order(organisation, purchaser_user, store, listing):
    """An order of `organisation` above its approval threshold: waiting for an approver, so
    cancel, approve and reorder would all be allowed to its own team."""
    organisation.approval_threshold = Decimal("100.00")
    organisation.save()
    order = place(purchaser_user, store, listing)
    assert order.status == FulfilmentStatus.PENDING_APPROVAL
    return order


@pytest.fixture
def other_approver(other_organisation):
    user = MembershipFactory(organisation=other_organisation, role=Membership.Role.APPROVER).user
    return client_for(user)


# --- Who may use /orders/ at all ---------------------------------------------------------------


def test_anonymous_gets_401_everywhere(anon, order, store, listing):
    assert_error(anon.get(ORDERS), 401, "not_authenticated")
    assert_error(anon.get(detail(order)), 401, "not_authenticated")
    assert_error(anon.get(f"{detail(order)}events/"), 401, "not_authenticated")
    before = snapshot(order)
    for action in ACTIONS:
        assert_error(anon.post(f"{detail(order)}{action}/", {}, format="json"), 401)
    body = {"store": store.pk, "lines": [{"listing": listing.pk, "quantity": "10"}]}
    assert_error(anon.post(ORDERS, body, format="json"), 401)
    assert snapshot(order) == before


@pytest.mark.parametrize("role", ["buyer", "manager", "other_manager"])
def test_users_outside_any_buyer_organisation_get_403(request, role, order, store, listing):
    """A buyer without an organisation, and cooperative managers (even of the fulfilling
    cooperative: they work through /fulfilments/), have no orders to see."""
    client = request.getfixturevalue(role)
    assert_error(client.get(ORDERS), 403, "permission_denied")
    assert_error(client.get(detail(order)), 403, "permission_denied")
    assert_error(client.get(f"{detail(order)}events/"), 403, "permission_denied")
    before = snapshot(order)
    for action in ACTIONS:
        assert_error(client.post(f"{detail(order)}{action}/", {}, format="json"), 403)
    body = {"store": store.pk, "lines": [{"listing": listing.pk, "quantity": "10"}]}
    assert_error(client.post(ORDERS, body, format="json"), 403, "permission_denied")
    assert snapshot(order) == before


# --- Members see their own organisation's orders, and only those --------------------------------


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner"])
def test_members_see_their_organisations_orders(request, role, order, other_order):
    client = request.getfixturevalue(role)
    assert ids(client.get(ORDERS)) == [order.pk]
    response = client.get(detail(order))
    assert response.status_code == 200, response.content
    assert response.json()["organisation"] == order.organisation_id
    events = client.get(f"{detail(order)}events/")
    assert events.status_code == 200, events.content
    assert [(e["from_status"], e["to_status"]) for e in events.json()] == [("", "placed")]


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner", "other_purchaser"])
def test_another_organisations_order_is_404(request, role, order, other_order):
    client = request.getfixturevalue(role)
    foreign = other_order if role != "other_purchaser" else order
    assert foreign.pk not in ids(client.get(ORDERS))
    assert_error(client.get(detail(foreign)), 404, "not_found")
    assert_error(client.get(f"{detail(foreign)}events/"), 404, "not_found")


def test_staff_see_every_organisations_orders(staff, order, other_order):
    assert set(ids(staff.get(ORDERS))) == {order.pk, other_order.pk}
    for each in (order, other_order):
        assert staff.get(detail(each)).status_code == 200
        events = staff.get(f"{detail(each)}events/")
        assert events.status_code == 200
        assert len(events.json()) == 1


@pytest.mark.parametrize("role", ["other_purchaser", "other_approver"])
@pytest.mark.parametrize("action", ACTIONS)
def test_acting_on_another_organisations_order_is_404_and_changes_nothing(
    request, role, action, pending_order
):
    client = request.getfixturevalue(role)
    before = snapshot(pending_order)
    response = client.post(
        f"{detail(pending_order)}{action}/",
        {},
        format="json",
        headers={"Idempotency-Key": f"foreign-{action}"},
    )
    assert_error(response, 404, "not_found")
    assert snapshot(pending_order) == before


def test_own_team_may_approve_reorder_and_cancel_the_same_order(approver, pending_order):
    """The 404s above are about whose order it is, not about the actions."""
    url = detail(pending_order)
    assert approver.post(f"{url}approve/", format="json").json()["status"] == "placed"
    reorder = approver.post(f"{url}reorder/", format="json")
    assert reorder.status_code == 201, reorder.content
    assert reorder.json()["reorder_of"] == pending_order.pk
    assert approver.post(f"{url}cancel/", {}, format="json").json()["status"] == "cancelled"


def test_fulfilments_are_seen_by_the_fulfilling_cooperative_and_the_ordering_team_only(
    manager, other_manager, purchaser, other_purchaser, order
):
    fulfilment = order.fulfilments.get()
    url = f"{FULFILMENTS}{fulfilment.pk}/"
    for client in (manager, purchaser):
        assert ids(client.get(FULFILMENTS)) == [fulfilment.pk]
        assert client.get(url).status_code == 200
    for client in (other_manager, other_purchaser):
        assert ids(client.get(FULFILMENTS)) == []
        assert_error(client.get(url), 404, "not_found")


# --- Placing for one's own organisation only ---------------------------------------------------


# A body the actions cannot read, sent for a part or order the user cannot see: the row is
# looked up first, so the answer is the 404 anyone gets for it, not a 400 about the body.
BAD_BODIES = {
    "confirm": {"lines": "x"},
    "reject": {},
    "pack": {"picks": "x"},
    "deliver": {"lines": "x"},
    "cancel": {"reason": ["x"]},
}


@pytest.mark.parametrize("role", ["other_manager", "other_purchaser"])
@pytest.mark.parametrize("action", sorted(BAD_BODIES))
def test_a_part_the_user_cannot_see_is_404_whatever_the_body(
    request, role, action, order, other_manager_user
):
    client = request.getfixturevalue(role)
    part = order.fulfilments.get()
    url = f"{FULFILMENTS}{part.pk}/{action}/"
    before = snapshot(order)
    assert_error(client.post(url, BAD_BODIES[action], format="json"), 404, "not_found")
    assert snapshot(order) == before


@pytest.mark.parametrize("role", ["other_purchaser", "other_approver"])
def test_cancelling_an_order_the_user_cannot_see_is_404_whatever_the_body(request, role, order):
    client = request.getfixturevalue(role)
    response = client.post(f"{detail(order)}cancel/", {"reason": ["x"]}, format="json")
    assert_error(response, 404, "not_found")


def test_a_standing_order_cannot_name_a_listing_the_buyer_cannot_see(purchaser, store, cooperative):
    """A draft listing is invisible to buyers: naming it is the 400 of an unknown id, not a
    standing order that quietly holds it."""
    draft = ListingFactory(cooperative=cooperative, status=Listing.Status.DRAFT)
    body = {"store": store.pk, "weekday": 0, "lines": [{"listing": draft.pk, "quantity": "10"}]}
    response = purchaser.post("/api/v1/standing-orders/", body, format="json")
    assert_error(response, 400, "validation_error", "lines.0.listing")
    assert not StandingOrder.objects.exists()


def test_partner_api_key_places_an_order_for_its_organisation(
    partner, partner_user, organisation, store, listing
):
    body = {"store": store.pk, "lines": [{"listing": listing.pk, "quantity": "20"}]}
    response = partner.post(
        ORDERS, body, format="json", headers={"Idempotency-Key": "hema-po-0001"}
    )
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert (order.organisation, order.placed_by, order.status) == (
        organisation,
        partner_user,
        FulfilmentStatus.PLACED,
    )
    assert order.total == Decimal("1360.00")  # 20 kg at the 10 kg tier, 68.00
    listing.refresh_from_db()
    assert listing.stock_reserved == Decimal("20")
    assert partner_user.role == User.Role.PARTNER
    assert ids(partner.get(ORDERS)) == [order.pk]


@pytest.mark.parametrize("role", ["partner", "purchaser"])
def test_nobody_places_to_another_organisations_store(request, role, other_store, listing):
    client = request.getfixturevalue(role)
    body = {"store": other_store.pk, "lines": [{"listing": listing.pk, "quantity": "10"}]}
    assert_error(client.post(ORDERS, body, format="json"), 400, "validation_error", "store")
    assert Order.objects.count() == 0
    listing.refresh_from_db()
    assert listing.stock_reserved == 0


def _store_refusals(client, listing, stores) -> list:
    line = [{"listing": listing.pk, "quantity": "10"}]
    return [client.post(ORDERS, {"store": store, "lines": line}, format="json") for store in stores]


def test_a_remembered_store_is_refused_and_accepted_as_the_scope_does(
    purchaser_user, store, other_store, listing, settings
):
    """With the token remembered the organisation's stores come with it (issue 8): the order
    reads no store row, and every refusal of the store field is the one the store scope gives
    when tokens are not remembered, body for body."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    named = [other_store.pk, 2**40, 2**70, "abc", None, 1.5, True]
    remembered = client_for(purchaser_user)
    refused = _store_refusals(remembered, listing, named)
    assert all(response.status_code == 400 for response in refused), refused
    with CaptureQueriesContext(connection) as queries:
        body = {"store": store.pk, "lines": [{"listing": listing.pk, "quantity": "10"}]}
        assert remembered.post(ORDERS, body, format="json").status_code == 201
    assert not [q for q in queries if "buyers_store" in q["sql"]]

    settings.AUTH_TOKEN_CACHE_SECONDS = 0
    asked = _store_refusals(client_for(purchaser_user), listing, named)
    assert [r.json() for r in refused] == [r.json() for r in asked]
    assert_error(asked[0], 400, "validation_error", "store")


# --- Filters -----------------------------------------------------------------------------------


def test_filter_by_status(purchaser, purchaser_user, store, listing):
    kept = place(purchaser_user, store, listing)
    cancelled = place(purchaser_user, store, listing)
    lifecycle_services.order_cancel(order=cancelled, user=purchaser_user)
    assert ids(purchaser.get(ORDERS, {"status": "cancelled"})) == [cancelled.pk]
    assert ids(purchaser.get(ORDERS, {"status": "placed"})) == [kept.pk]
    assert ids(purchaser.get(ORDERS, {"status": "shipped"})) == []


def test_filter_by_store(purchaser, purchaser_user, organisation, store, listing):
    second_store = StoreFactory(organisation=organisation)
    first = place(purchaser_user, store, listing)
    second = place(purchaser_user, second_store, listing)
    assert ids(purchaser.get(ORDERS, {"store": store.pk})) == [first.pk]
    assert ids(purchaser.get(ORDERS, {"store": second_store.pk})) == [second.pk]


def test_filter_by_cooperative_lists_a_split_order_once(
    purchaser, purchaser_user, store, cooperative, other_cooperative, listing
):
    other_listing = ListingFactory(cooperative=other_cooperative)
    ours = place(purchaser_user, store, listing)
    theirs = place(purchaser_user, store, other_listing)
    both = place(purchaser_user, store, listing, other_listing)
    assert Fulfilment.objects.filter(order=both).count() == 2
    assert ids(purchaser.get(ORDERS, {"cooperative": cooperative.pk})) == [both.pk, ours.pk]
    assert ids(purchaser.get(ORDERS, {"cooperative": other_cooperative.pk})) == [
        both.pk,
        theirs.pk,
    ]


def test_filter_by_placed_after_and_placed_before(purchaser, purchaser_user, store, listing):
    old = place(purchaser_user, store, listing)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    new = place(purchaser_user, store, listing)
    today = timezone.localdate()
    five_days_ago = (today - datetime.timedelta(days=5)).isoformat()
    assert ids(purchaser.get(ORDERS, {"placed_after": five_days_ago})) == [new.pk]
    assert ids(purchaser.get(ORDERS, {"placed_before": five_days_ago})) == [old.pk]
    assert ids(purchaser.get(ORDERS, {"placed_after": today.isoformat()})) == [new.pk]
    assert ids(purchaser.get(ORDERS, {"placed_before": today.isoformat()})) == [new.pk, old.pk]


def test_filters_do_not_widen_what_a_member_sees(other_purchaser, order, cooperative, store):
    assert ids(other_purchaser.get(ORDERS, {"cooperative": cooperative.pk})) == []
    assert ids(other_purchaser.get(ORDERS, {"store": store.pk})) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "lost"),
        ("store", "abc"),
        ("store", "-1"),
        ("cooperative", "1.5"),
        ("cooperative", str(2**63)),
        ("placed_after", "yesterday"),
        ("placed_before", "2026-13-01"),
    ],
)
def test_bad_filter_values_are_400_naming_the_field(purchaser, order, field, value):
    assert_error(purchaser.get(ORDERS, {field: value}), 400, "validation_error", field)
