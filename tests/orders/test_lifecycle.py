"""The fulfilment lifecycle: every status × every target × every kind of actor is either a
move the service performs (with an OrderEvent) or a 409 illegal_transition that lists the
moves left to that actor; the order's status follows its parts; the issue's rules (who
cancels when, whose part a cooperative may touch, who records delivery) hold at the API."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import translation

from orders import access, lifecycle
from orders.models import Fulfilment, FulfilmentStatus, OrderEvent
from orders.services import transitions as services
from tests.conftest import assert_error
from tests.factories import (
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
    place_order,
)

pytestmark = pytest.mark.django_db

S = FulfilmentStatus
ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"

# --- The rules, written from the issue (not copied from lifecycle.TRANSITIONS) ----------------

KINDS = ["purchaser", "approver", "manager", "other_manager", "staff", "system"]
BUYERS = {"purchaser", "approver"}
EXPECTED: dict[tuple[str, str], set[str]] = {
    (S.PENDING_APPROVAL, S.PLACED): {"approver", "staff"},
    (S.PENDING_APPROVAL, S.CANCELLED): BUYERS | {"staff", "system"},
    (S.PLACED, S.CONFIRMED): {"manager", "staff"},
    (S.PLACED, S.REJECTED): {"manager", "staff"},
    (S.PLACED, S.CANCELLED): BUYERS | {"staff", "system"},  # buyers: before confirmation
    (S.CONFIRMED, S.PACKED): {"manager", "staff"},
    (S.CONFIRMED, S.CANCELLED): {"staff"},  # staff: any time before shipping
    (S.PACKED, S.SHIPPED): {"manager", "staff"},
    (S.PACKED, S.CANCELLED): {"staff"},
    (S.SHIPPED, S.DELIVERED): BUYERS | {"staff"},  # the buyer records delivery
    (S.DELIVERED, S.COMPLETED): BUYERS | {"staff"},
}
# Which lifecycle actors each kind of user is for a part of `organisation`'s order fulfilled by
# `cooperative`.
KIND_ACTORS = {
    "purchaser": {"buyer"},
    "approver": {"buyer", "approver"},
    "manager": {"cooperative"},
    "other_manager": set(),
    "staff": {"staff"},
    "system": {"system"},
}


def may(kind: str, from_status: str, to_status: str) -> bool:
    return kind in EXPECTED.get((from_status, to_status), set())


def moves_left(kind: str, from_status: str) -> set[str]:
    return {to for (frm, to), kinds in EXPECTED.items() if frm == from_status and kind in kinds}


# --- Building fulfilments through the services ------------------------------------------------


place = place_order


# How each status is reached from `placed`, as (service, who) steps.
STEPS = {
    S.PENDING_APPROVAL: [],
    S.PLACED: [],
    S.CONFIRMED: [("confirm", "manager")],
    S.REJECTED: [("reject", "manager")],
    S.PACKED: [("confirm", "manager"), ("pack", "manager")],
    S.SHIPPED: [("confirm", "manager"), ("pack", "manager"), ("ship", "manager")],
    S.DELIVERED: [
        ("confirm", "manager"),
        ("pack", "manager"),
        ("ship", "manager"),
        ("deliver", "purchaser"),
    ],
    S.COMPLETED: [
        ("confirm", "manager"),
        ("pack", "manager"),
        ("ship", "manager"),
        ("deliver", "purchaser"),
        ("complete", "purchaser"),
    ],
    S.CANCELLED: [("cancel", "purchaser")],
}

# The service call that moves a part to each target status.
MOVES = {
    S.PLACED: lambda f, user: services.order_approve(order=f.order, user=user),
    S.CONFIRMED: lambda f, user: services.fulfilment_confirm(fulfilment=f, user=user),
    S.REJECTED: lambda f, user: services.fulfilment_reject(
        fulfilment=f, user=user, reason="蜜源不足"
    ),
    S.PACKED: lambda f, user: services.fulfilment_pack(fulfilment=f, user=user),
    S.SHIPPED: lambda f, user: services.fulfilment_ship(fulfilment=f, user=user),
    S.DELIVERED: lambda f, user: services.fulfilment_deliver(fulfilment=f, user=user),
    S.COMPLETED: lambda f, user: services.fulfilment_complete(fulfilment=f, user=user),
    S.CANCELLED: lambda f, user: services.fulfilment_cancel(
        fulfilment=f, user=user, reason="计划变更"
    ),
}
STEP_TARGET = {
    "confirm": S.CONFIRMED,
    "reject": S.REJECTED,
    "pack": S.PACKED,
    "ship": S.SHIPPED,
    "deliver": S.DELIVERED,
    "complete": S.COMPLETED,
    "cancel": S.CANCELLED,
}


@dataclass
class World:
    store: object
    listing: object
    users: dict

    def build(self, status: str, quantity: str = "30") -> Fulfilment:
        """A one-part order of `organisation` for `cooperative`'s listing, brought to
        ``status`` through the services (never by writing the status field)."""
        if status == S.PENDING_APPROVAL:
            # Before the purchaser's membership is first read, which caches the organisation.
            self.store.organisation.approval_threshold = Decimal("1.00")
            self.store.organisation.save(update_fields=["approval_threshold"])
        order = place(self.users["purchaser"], self.store, (self.listing, quantity))
        fulfilment = order.fulfilments.get()
        for step, who in STEPS[status]:
            MOVES[STEP_TARGET[step]](fulfilment, self.users[who])
        fulfilment = Fulfilment.objects.select_related("order").get(pk=fulfilment.pk)
        assert fulfilment.status == status
        return fulfilment


@pytest.fixture
def listing(cooperative):
    """A listing of `cooperative` with a lot behind it that covers any order here."""
    listing = ListingFactory(cooperative=cooperative)
    lot = LotFactory(listing=listing, quantity=Decimal("100"))
    LotContributionFactory(
        lot=lot, household=HouseholdFactory(cooperative=cooperative), quantity=Decimal("100")
    )
    return listing


@pytest.fixture
def world(
    store, listing, purchaser_user, approver_user, manager_user, other_manager_user, staff_user
):
    users = {
        "purchaser": purchaser_user,
        "approver": approver_user,
        "manager": manager_user,
        "other_manager": other_manager_user,
        "staff": staff_user,
        "system": None,
    }
    return World(store=store, listing=listing, users=users)


def last_event(fulfilment) -> OrderEvent:
    return OrderEvent.objects.filter(fulfilment=fulfilment).order_by("pk").last()


# --- lifecycle.check: the whole table ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_status", list(S))
@pytest.mark.parametrize("from_status", list(S))
def test_check_allows_exactly_the_issue_rules(from_status, to_status, kind):
    actors = KIND_ACTORS[kind]
    if may(kind, from_status, to_status):
        lifecycle.check(from_status, to_status, actors)
        return
    with pytest.raises(lifecycle.IllegalTransition) as refused:
        lifecycle.check(from_status, to_status, actors)
    assert refused.value.status_code == 409
    assert refused.value.code == "illegal_transition"
    assert set(refused.value.extra["allowed_transitions"]) == moves_left(kind, from_status)
    assert refused.value.extra["current_status"] == from_status


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("from_status", list(S))
def test_allowed_lists_the_moves_left_to_each_actor(from_status, kind):
    assert set(lifecycle.allowed(from_status, KIND_ACTORS[kind])) == moves_left(kind, from_status)


@pytest.mark.parametrize("kind", KINDS)
def test_actors_for_each_kind_of_user(world, kind):
    fulfilment = world.build(S.PLACED)
    assert access.actors_for(user=world.users[kind], fulfilment=fulfilment) == KIND_ACTORS[kind]


def test_partner_system_acts_as_the_buyer(world, partner_user):
    fulfilment = world.build(S.PLACED)
    assert access.actors_for(user=partner_user, fulfilment=fulfilment) == {"buyer"}


def test_a_member_of_another_organisation_is_no_actor(world, other_purchaser_user):
    fulfilment = world.build(S.PLACED)
    assert access.actors_for(user=other_purchaser_user, fulfilment=fulfilment) == set()


@pytest.mark.parametrize("status", list(STEPS))
def test_whoever_cannot_see_a_part_may_make_no_move_on_it(world, other_purchaser_user, status):
    """The API lets a move find its part itself and asks whether the user may see it only
    when the move is refused (orders/views.py): that is safe because nobody the scope hides
    a part from may move it, in any status (a manager waiting for an approval included)."""
    fulfilment = world.build(status)
    users = {**world.users, "other_purchaser": other_purchaser_user}
    for kind, user in users.items():
        if user is None:
            continue  # the jobs: no request, no scope
        visible = access.fulfilments_visible(user=user, queryset=Fulfilment.objects.all())
        if not visible.filter(pk=fulfilment.pk).exists():
            actors = access.actors_for(user=user, fulfilment=fulfilment)
            assert lifecycle.allowed(fulfilment.status, actors) == [], (kind, status)


# --- The services: every status × every target × every actor ---------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", list(S))
def test_service_performs_allowed_moves_and_refuses_the_rest(world, status, kind):
    fulfilment = world.build(status)
    user = world.users[kind]
    events = OrderEvent.objects.count()
    for target, move in MOVES.items():
        with transaction.atomic():
            if may(kind, status, target):
                move(fulfilment, user)
                assert Fulfilment.objects.get(pk=fulfilment.pk).status == target
                event = last_event(fulfilment)
                assert (event.actor, event.from_status, event.to_status) == (user, status, target)
                transaction.set_rollback(True)  # try the next target from the same status
                continue
            with pytest.raises(lifecycle.IllegalTransition) as refused:
                move(fulfilment, user)
        assert Fulfilment.objects.get(pk=fulfilment.pk).status == status
        assert OrderEvent.objects.count() == events
        if target == S.PLACED and status != S.PENDING_APPROVAL:
            continue  # approving an order that is not waiting: see the test of its body below
        assert set(refused.value.extra["allowed_transitions"]) == moves_left(kind, status), target


# --- The API: every status × every target × every signed-in kind ------------------------------


def api_move(client, fulfilment, target):
    if target == S.PLACED:
        return client.post(f"{ORDERS}{fulfilment.order_id}/approve/", {}, format="json")
    action = {v: k for k, v in STEP_TARGET.items()}[target]
    body = {"reason": "蜜源不足"} if target in (S.REJECTED, S.CANCELLED) else {}
    return client.post(f"{FULFILMENTS}{fulfilment.pk}/{action}/", body, format="json")


def moved_to(response, target) -> str:
    body = response.json()
    return body["fulfilments"][0]["status"] if target == S.PLACED else body["status"]


@pytest.mark.parametrize("kind", ["purchaser", "approver", "manager", "other_manager", "staff"])
@pytest.mark.parametrize("status", list(S))
def test_api_performs_allowed_moves_and_answers_409_with_the_moves_left(
    request, world, status, kind
):
    client = request.getfixturevalue(kind)
    fulfilment = world.build(status)
    for target in MOVES:
        with transaction.atomic():
            response = api_move(client, fulfilment, target)
            transaction.set_rollback(True)
        if kind in ("manager", "other_manager") and target == S.PLACED:
            assert_error(response, 403, "permission_denied")  # orders are the buyers' and staff's
        elif kind == "other_manager" or (kind == "manager" and status == S.PENDING_APPROVAL):
            # Another cooperative's part is not there, nor one waiting for the buyer's approver.
            assert_error(response, 404, "not_found")
        elif may(kind, status, target):
            assert response.status_code == 200, (target, response.content)
            assert moved_to(response, target) == target
        else:
            error = assert_error(response, 409, "illegal_transition")
            if target != S.PLACED or status == S.PENDING_APPROVAL:
                assert set(error["allowed_transitions"]) == moves_left(kind, status), target
        assert Fulfilment.objects.get(pk=fulfilment.pk).status == status


def test_refused_approval_lists_the_moves_left(staff, world):
    """An illegal move says which moves are possible; approving an order that no longer waits
    for approval is one too."""
    fulfilment = world.build(S.CONFIRMED)
    response = staff.post(f"{ORDERS}{fulfilment.order_id}/approve/", {}, format="json")
    error = assert_error(response, 409, "illegal_transition")
    assert set(error["allowed_transitions"]) == {S.PACKED, S.CANCELLED}


def test_cancelling_an_ended_order_says_no_moves_are_left(purchaser, world):
    fulfilment = world.build(S.CANCELLED)
    response = purchaser.post(f"{ORDERS}{fulfilment.order_id}/cancel/", {}, format="json")
    error = assert_error(response, 409, "illegal_transition")
    assert error["allowed_transitions"] == []


# --- The issue's rules, at the API ------------------------------------------------------------


def test_illegal_move_body_says_current_status_and_moves(manager, world, request_language):
    fulfilment = world.build(S.PLACED)
    response = manager.post(f"{FULFILMENTS}{fulfilment.pk}/ship/", {}, format="json")
    error = assert_error(response, 409, "illegal_transition", field="status")
    assert error["current_status"] == S.PLACED
    assert sorted(error["allowed_transitions"]) == [S.CONFIRMED, S.REJECTED]
    # The statuses by the names people read: "confirmed, rejected" / "已确认、已拒绝".
    with translation.override(request_language):
        names = [str(S(status).label) for status in error["allowed_transitions"]]
    assert all(name in error["message"] for name in names), error["message"]


@pytest.mark.parametrize("status", [S.PENDING_APPROVAL, S.PLACED])
def test_buyer_cancels_an_order_before_confirmation(purchaser, world, status):
    fulfilment = world.build(status)
    response = purchaser.post(f"{ORDERS}{fulfilment.order_id}/cancel/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.CANCELLED
    assert response.json()["fulfilments"][0]["status"] == S.CANCELLED


@pytest.mark.parametrize("status", [S.CONFIRMED, S.PACKED, S.SHIPPED, S.DELIVERED])
def test_buyer_cannot_cancel_after_confirmation(purchaser, world, status):
    fulfilment = world.build(status)
    response = purchaser.post(f"{ORDERS}{fulfilment.order_id}/cancel/", {}, format="json")
    assert_error(response, 409, "illegal_transition")
    fulfilment.refresh_from_db()
    assert fulfilment.status == status


@pytest.mark.parametrize("status", [S.PENDING_APPROVAL, S.PLACED, S.CONFIRMED, S.PACKED])
def test_staff_cancel_an_order_any_time_before_shipping(staff, world, status):
    fulfilment = world.build(status)
    response = staff.post(f"{ORDERS}{fulfilment.order_id}/cancel/", {"reason": "x"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.CANCELLED


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.COMPLETED])
def test_staff_cannot_cancel_once_shipped(staff, world, status):
    fulfilment = world.build(status)
    response = staff.post(f"{ORDERS}{fulfilment.order_id}/cancel/", {}, format="json")
    assert_error(response, 409, "illegal_transition")
    response = staff.post(f"{FULFILMENTS}{fulfilment.pk}/cancel/", {}, format="json")
    error = assert_error(response, 409, "illegal_transition")
    assert S.CANCELLED not in error["allowed_transitions"]
    fulfilment.refresh_from_db()
    assert fulfilment.status == status


def test_buyer_order_cancel_is_all_or_nothing(
    purchaser, purchaser_user, manager_user, store, listing, other_cooperative
):
    """One part confirmed, one still placed: the buyer may not cancel the order, and nothing
    is cancelled; the placed part alone can still be cancelled."""
    other_listing = ListingFactory(cooperative=other_cooperative)
    order = place(purchaser_user, store, (listing, "30"), (other_listing, "30"))
    mine = order.fulfilments.get(cooperative=listing.cooperative)
    services.fulfilment_confirm(fulfilment=mine, user=manager_user)
    response = purchaser.post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert_error(response, 409, "illegal_transition")
    assert sorted(order.fulfilments.values_list("status", flat=True)) == [S.CONFIRMED, S.PLACED]
    theirs = order.fulfilments.get(cooperative=other_cooperative)
    response = purchaser.post(f"{FULFILMENTS}{theirs.pk}/cancel/", {}, format="json")
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.status == S.CONFIRMED  # the cancelled part no longer holds it back


@pytest.mark.parametrize("action", ["confirm", "reject", "pack", "ship"])
def test_a_cooperative_works_only_on_its_own_part(
    manager, manager_user, purchaser_user, store, listing, other_cooperative, action
):
    other_listing = ListingFactory(cooperative=other_cooperative)
    LotFactory(listing=other_listing, quantity=Decimal("100"))
    order = place(purchaser_user, store, (listing, "30"), (other_listing, "30"))
    theirs = order.fulfilments.get(cooperative=other_cooperative)
    before = theirs.status
    body = {"reason": "不是我们的"} if action == "reject" else {}
    response = manager.post(f"{FULFILMENTS}{theirs.pk}/{action}/", body, format="json")
    assert_error(response, 404, "not_found")
    with pytest.raises(lifecycle.IllegalTransition) as refused:
        MOVES[STEP_TARGET[action]](theirs, manager_user)
    assert refused.value.extra["allowed_transitions"] == []
    theirs.refresh_from_db()
    assert theirs.status == before


def test_the_buyer_records_delivery_not_the_cooperative(manager, purchaser, world):
    fulfilment = world.build(S.SHIPPED)
    response = manager.post(f"{FULFILMENTS}{fulfilment.pk}/deliver/", {}, format="json")
    error = assert_error(response, 409, "illegal_transition")
    assert error["allowed_transitions"] == []
    response = purchaser.post(f"{FULFILMENTS}{fulfilment.pk}/deliver/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.DELIVERED


def test_approver_releases_a_pending_order_to_the_cooperatives(approver, purchaser, world):
    fulfilment = world.build(S.PENDING_APPROVAL)
    response = purchaser.post(f"{ORDERS}{fulfilment.order_id}/approve/", {}, format="json")
    error = assert_error(response, 409, "illegal_transition")
    assert error["allowed_transitions"] == [S.CANCELLED]
    response = approver.post(f"{ORDERS}{fulfilment.order_id}/approve/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.PLACED
    assert response.json()["approved_by"] == approver.user.pk


# --- Order events -----------------------------------------------------------------------------


def event_rows(client, order_id) -> list[tuple]:
    response = client.get(f"{ORDERS}{order_id}/events/")
    assert response.status_code == 200, response.content
    return [(e["actor"], e["from_status"], e["to_status"], e["note"]) for e in response.json()]


def test_every_change_is_an_event_readable_in_order(purchaser, manager, world):
    """Place, confirm short, pack, ship, deliver, complete, all through the API: one event each,
    with who, from, to and note, in the order they happened."""
    response = purchaser.post(
        ORDERS,
        {"store": world.store.pk, "lines": [{"listing": world.listing.pk, "quantity": "30"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    part = response.json()["fulfilments"][0]
    line = part["lines"][0]["id"]
    url = f"{FULFILMENTS}{part['id']}/"
    steps = [
        (manager, "confirm", {"lines": [{"line": line, "quantity": "25"}]}),
        (manager, "pack", {}),
        (manager, "ship", {}),
        (purchaser, "deliver", {"lines": [{"line": line, "accepted_quantity": "25"}]}),
        (purchaser, "complete", {}),
    ]
    for client, action, body in steps:
        response = client.post(f"{url}{action}/", body, format="json")
        assert response.status_code == 200, (action, response.content)

    rows = event_rows(purchaser, order_id)
    buyer, coop = purchaser.user.pk, manager.user.pk
    assert [row[:3] for row in rows] == [
        (buyer, "", S.PLACED),
        (coop, S.PLACED, S.CONFIRMED),
        (coop, S.CONFIRMED, S.PACKED),
        (coop, S.PACKED, S.SHIPPED),
        (buyer, S.SHIPPED, S.DELIVERED),
        (buyer, S.DELIVERED, S.COMPLETED),
    ]
    assert rows[1][3].startswith("short") and str(line) in rows[1][3]
    events = purchaser.get(f"{ORDERS}{order_id}/events/").json()
    assert all(e["created_at"] and e["fulfilment"] == part["id"] for e in events)
    assert events[1]["actor_name"] == manager.user.name


def test_reject_and_cancel_events_carry_the_reason(
    purchaser, manager, purchaser_user, store, listing, other_cooperative
):
    other_listing = ListingFactory(cooperative=other_cooperative)
    order = place(purchaser_user, store, (listing, "30"), (other_listing, "30"))
    mine = order.fulfilments.get(cooperative=listing.cooperative)
    theirs = order.fulfilments.get(cooperative=other_cooperative)
    response = manager.post(
        f"{FULFILMENTS}{mine.pk}/reject/", {"reason": "蜜源不足"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["reason"] == "蜜源不足"
    response = purchaser.post(
        f"{FULFILMENTS}{theirs.pk}/cancel/", {"reason": "门店装修"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert event_rows(purchaser, order.pk)[2:] == [
        (manager.user.pk, S.PLACED, S.REJECTED, "蜜源不足"),
        (purchaser.user.pk, S.PLACED, S.CANCELLED, "门店装修"),
    ]
    order.refresh_from_db()
    assert order.status == S.CANCELLED  # one rejected, one cancelled: all ended


def test_approval_and_expiry_are_events_too(approver, world):
    fulfilment = world.build(S.PENDING_APPROVAL)
    services.order_approve(order=fulfilment.order, user=approver.user)
    services.fulfilment_cancel(fulfilment=fulfilment, user=None, reason="reservation expired")
    rows = event_rows(approver, fulfilment.order_id)
    assert rows[1:] == [
        (approver.user.pk, S.PENDING_APPROVAL, S.PLACED, "approved"),
        (None, S.PLACED, S.CANCELLED, "reservation expired"),
    ]


def test_a_refused_move_writes_no_event(manager, world):
    fulfilment = world.build(S.PLACED)
    before = OrderEvent.objects.count()
    response = manager.post(f"{FULFILMENTS}{fulfilment.pk}/deliver/", {}, format="json")
    assert_error(response, 409, "illegal_transition")
    assert OrderEvent.objects.count() == before


# --- lifecycle.order_status -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([S.PLACED], S.PLACED),
        ([S.SHIPPED, S.PLACED], S.PLACED),
        ([S.COMPLETED, S.DELIVERED], S.DELIVERED),
        ([S.PACKED, S.CONFIRMED, S.SHIPPED], S.CONFIRMED),
        ([S.PENDING_APPROVAL, S.PENDING_APPROVAL], S.PENDING_APPROVAL),
        ([S.CANCELLED, S.PACKED], S.PACKED),
        ([S.REJECTED, S.COMPLETED], S.COMPLETED),
        ([S.REJECTED, S.CANCELLED, S.SHIPPED], S.SHIPPED),
    ],
)
def test_order_status_is_its_least_advanced_live_part(parts, expected):
    assert lifecycle.order_status(parts) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([S.CANCELLED], S.CANCELLED),
        ([S.REJECTED], S.REJECTED),
        ([S.REJECTED, S.REJECTED], S.REJECTED),
        ([S.REJECTED, S.CANCELLED], S.CANCELLED),
        ([S.CANCELLED, S.REJECTED, S.REJECTED], S.CANCELLED),
    ],
)
def test_order_status_when_every_part_ended(parts, expected):
    assert lifecycle.order_status(parts) == expected


def test_the_order_follows_its_parts_through_the_services(
    purchaser_user, manager_user, store, listing, other_cooperative, other_manager_user
):
    other_listing = ListingFactory(cooperative=other_cooperative)
    order = place(purchaser_user, store, (listing, "30"), (other_listing, "30"))
    mine = order.fulfilments.get(cooperative=listing.cooperative)
    theirs = order.fulfilments.get(cooperative=other_cooperative)
    services.fulfilment_confirm(fulfilment=mine, user=manager_user)
    services.fulfilment_pack(fulfilment=mine, user=manager_user)
    order.refresh_from_db()
    assert order.status == S.PLACED  # the other part has not moved yet
    services.fulfilment_reject(fulfilment=theirs, user=other_manager_user, reason="没货")
    order.refresh_from_db()
    assert order.status == S.PACKED  # the rejected part no longer counts
