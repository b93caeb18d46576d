"""/api/v1/fulfilments/: the pick list (first in first out by harvest date, households in
proportion to what they gave each lot, the manager's own picks), who sees it, and who sees
which parts at all."""

from decimal import Decimal

import pytest

from accounts.models import User
from orders.models import FulfilmentStatus, PickAllocation
from orders.services import transitions as services
from products.models import Lot
from tests.conftest import assert_error, client_for
from tests.factories import (
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
    UserFactory,
)
from tests.factories import place_order as place

pytestmark = pytest.mark.django_db

S = FulfilmentStatus
ORDERS = "/api/v1/orders/"
FULFILMENTS = "/api/v1/fulfilments/"
NAMES = ["蜂农王大山", "蜂农李春花", "蜂农杨老三", "蜂农罗二妹", "蜂农韦小虎"]


def lot_with(listing, code, harvest_date, shares: list[tuple[object, str]]) -> Lot:
    lot = LotFactory(
        listing=listing,
        code=code,
        harvest_date=harvest_date,
        quantity=sum(Decimal(q) for _, q in shares),
    )
    for household, quantity in shares:
        LotContributionFactory(lot=lot, household=household, quantity=Decimal(quantity))
    return lot


@pytest.fixture
def households(cooperative):
    return [HouseholdFactory(cooperative=cooperative, name=name) for name in NAMES]


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


@pytest.fixture
def lots(listing, households):
    """The newer lot is recorded first (lower id), so only the harvest date puts the older one
    first. Old: 20 kg from two households (12 + 8); new: 30 kg from three (10 each)."""
    h1, h2, h3, h4, h5 = households
    new = lot_with(listing, "FM-2025-10", "2025-10-01", [(h3, "10"), (h4, "10"), (h5, "10")])
    old = lot_with(listing, "FM-2025-09", "2025-09-01", [(h1, "12"), (h2, "8")])
    return old, new


@pytest.fixture
def order(purchaser_user, store, listing, lots):
    return place(purchaser_user, store, (listing, "30"))


@pytest.fixture
def part(order):
    return order.fulfilments.get()


def pick_list(client, part) -> list[dict]:
    response = client.get(f"{FULFILMENTS}{part.pk}/")
    assert response.status_code == 200, response.content
    return response.json()["pick_list"]


def drawn(entry) -> list[tuple]:
    """A pick-list line as (lot code, quantity, [(household name, quantity), ...]) per lot."""
    return [
        (
            lot["code"],
            Decimal(lot["quantity"]),
            [(h["name"], Decimal(h["quantity"])) for h in lot["households"]],
        )
        for lot in entry["lots"]
    ]


def picked(*lots) -> list[Decimal]:
    return [Lot.objects.get(pk=lot.pk).quantity_picked for lot in lots]


def pack(client, part, picks=None):
    body = {"picks": picks} if picks is not None else {}
    return client.post(f"{FULFILMENTS}{part.pk}/pack/", body, format="json")


# --- The proposed draw, before packing --------------------------------------------------------


def test_before_packing_the_oldest_lot_is_proposed_first_spilling_into_the_next(
    manager, part, lots
):
    [entry] = pick_list(manager, part)
    assert entry["drawn"] is False
    assert entry["line"] == part.lines.get().pk
    assert drawn(entry) == [
        ("FM-2025-09", Decimal("20"), [(NAMES[0], Decimal("12")), (NAMES[1], Decimal("8"))]),
        (
            "FM-2025-10",
            Decimal("10"),
            [
                (NAMES[2], Decimal("3.334")),  # the gram left over: ties go to the first
                (NAMES[3], Decimal("3.333")),
                (NAMES[4], Decimal("3.333")),
            ],
        ),
    ]
    assert picked(*lots) == [Decimal("0"), Decimal("0")]  # a proposal draws nothing


def test_household_shares_are_to_the_thousandth_and_add_up(manager, part):
    [entry] = pick_list(manager, part)
    shares = [h["quantity"] for lot in entry["lots"] for h in lot["households"]]
    assert shares == ["12.000", "8.000", "3.334", "3.333", "3.333"]
    for lot in entry["lots"]:
        total = sum(Decimal(h["quantity"]) for h in lot["households"])
        assert total == Decimal(lot["quantity"])
    first = entry["lots"][0]
    assert first["harvest_date"] == "2025-09-01"
    household = first["households"][0]
    assert set(household) == {"household", "name", "village", "on_poverty_list", "quantity"}


def test_the_proposal_follows_a_short_confirmation(manager, manager_user, order, part):
    services.fulfilment_confirm(
        fulfilment=part, user=manager_user, quantities={order.lines.get().pk: Decimal("25")}
    )
    [entry] = pick_list(manager, part)
    assert [(code, quantity) for code, quantity, _ in drawn(entry)] == [
        ("FM-2025-09", Decimal("20")),
        ("FM-2025-10", Decimal("5")),
    ]
    assert [h[1] for h in drawn(entry)[1][2]] == [
        Decimal("1.667"),
        Decimal("1.667"),
        Decimal("1.666"),
    ]


# --- What was drawn, after packing -------------------------------------------------------------


def test_after_packing_the_pick_list_shows_what_was_drawn(manager, manager_user, part, lots):
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    response = pack(manager, part)
    assert response.status_code == 200, response.content
    [entry] = response.json()["pick_list"]
    assert entry["drawn"] is True
    assert [(code, quantity) for code, quantity, _ in drawn(entry)] == [
        ("FM-2025-09", Decimal("20")),
        ("FM-2025-10", Decimal("10")),
    ]
    assert picked(*lots) == [Decimal("20"), Decimal("10")]


def test_a_later_proposal_starts_where_packed_picks_left_off(
    manager, manager_user, purchaser_user, store, listing, part, lots
):
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    services.fulfilment_pack(fulfilment=part, user=manager_user)
    later = place(purchaser_user, store, (listing, "15")).fulfilments.get()
    [entry] = pick_list(manager, later)
    assert entry["drawn"] is False
    assert [(code, quantity) for code, quantity, _ in drawn(entry)] == [
        ("FM-2025-10", Decimal("15"))
    ]
    assert [h[1] for h in drawn(entry)[0][2]] == [Decimal("5")] * 3


def test_the_drawn_list_stays_as_drawn(manager, manager_user, purchaser_user, store, listing, part):
    """Packing another order later does not rewrite what this one drew."""
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    services.fulfilment_pack(fulfilment=part, user=manager_user)
    before = pick_list(manager, part)
    later = place(purchaser_user, store, (listing, "15")).fulfilments.get()
    services.fulfilment_confirm(fulfilment=later, user=manager_user)
    services.fulfilment_pack(fulfilment=later, user=manager_user)
    assert pick_list(manager, part) == before


# --- The manager's own picks ------------------------------------------------------------------


def test_the_manager_picks_lots_explicitly(manager, manager_user, part, lots):
    old, new = lots
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    line = part.lines.get().pk
    response = pack(
        manager,
        part,
        [
            {"line": line, "lot": new.pk, "quantity": "25"},
            {"line": line, "lot": old.pk, "quantity": "5"},
        ],
    )
    assert response.status_code == 200, response.content
    [entry] = response.json()["pick_list"]
    assert entry["drawn"] is True
    assert sorted((code, quantity) for code, quantity, _ in drawn(entry)) == [
        ("FM-2025-09", Decimal("5")),
        ("FM-2025-10", Decimal("25")),
    ]
    assert picked(old, new) == [Decimal("5"), Decimal("25")]


def test_picks_must_add_up_to_the_confirmed_quantity(manager, manager_user, order, part, lots):
    _old, new = lots
    services.fulfilment_confirm(
        fulfilment=part, user=manager_user, quantities={order.lines.get().pk: Decimal("25")}
    )
    response = pack(
        manager, part, [{"line": order.lines.get().pk, "lot": new.pk, "quantity": "30"}]
    )
    assert_error(response, 400, "validation_error", field="picks")
    assert_nothing_drawn(part, lots)


def test_a_lot_of_another_listing_cannot_be_picked(manager, manager_user, cooperative, part, lots):
    elsewhere = LotFactory(listing=ListingFactory(cooperative=cooperative), quantity=Decimal("50"))
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    response = pack(
        manager, part, [{"line": part.lines.get().pk, "lot": elsewhere.pk, "quantity": "30"}]
    )
    assert_error(response, 400, "validation_error", field="picks")
    assert_nothing_drawn(part, lots)
    assert picked(elsewhere) == [Decimal("0")]


def test_a_pick_cannot_take_more_than_the_lot_has_left(manager, manager_user, part, lots):
    old, new = lots
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    line = part.lines.get().pk
    response = pack(
        manager,
        part,
        [
            {"line": line, "lot": old.pk, "quantity": "25"},
            {"line": line, "lot": new.pk, "quantity": "5"},
        ],
    )
    assert_error(response, 400, "validation_error", field="picks")
    assert_nothing_drawn(part, lots)


def test_naming_a_lot_twice_cannot_take_more_than_it_has_left(manager, manager_user, part, lots):
    old, _new = lots
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    line = part.lines.get().pk
    response = pack(
        manager,
        part,
        [
            {"line": line, "lot": old.pk, "quantity": "15"},
            {"line": line, "lot": old.pk, "quantity": "15"},
        ],
    )
    assert_error(response, 400, "validation_error", field="picks")  # 30 of a 20 kg lot
    assert_nothing_drawn(part, lots)


def test_a_pick_counts_what_other_packings_took(
    manager, manager_user, purchaser_user, store, listing, part, lots
):
    old, new = lots
    first = place(purchaser_user, store, (listing, "15")).fulfilments.get()
    services.fulfilment_confirm(fulfilment=first, user=manager_user)
    services.fulfilment_pack(fulfilment=first, user=manager_user)  # takes 15 of the old lot
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    line = part.lines.get().pk
    response = pack(
        manager,
        part,
        [
            {"line": line, "lot": old.pk, "quantity": "10"},
            {"line": line, "lot": new.pk, "quantity": "20"},
        ],
    )
    assert_error(response, 400, "validation_error", field="picks")
    assert picked(old, new) == [Decimal("15"), Decimal("0")]


def test_picks_for_a_line_of_another_part_are_400(
    manager, manager_user, purchaser_user, store, listing, part, lots
):
    stranger = place(purchaser_user, store, (listing, "10")).lines.get()
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    response = pack(manager, part, [{"line": stranger.pk, "lot": lots[0].pk, "quantity": "10"}])
    assert_error(response, 400, "validation_error", field="picks")
    assert_nothing_drawn(part, lots)


def test_a_line_the_lots_cannot_cover_is_409(
    manager, manager_user, purchaser_user, store, listing, lots
):
    part = place(purchaser_user, store, (listing, "60")).fulfilments.get()  # lots hold 50
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    response = pack(manager, part)
    error = assert_error(response, 409, "conflict", field="picks")
    assert "10" in error["message"]  # how much is missing
    assert_nothing_drawn(part, lots)


def assert_nothing_drawn(part, lots):
    part.refresh_from_db()
    assert part.status == S.CONFIRMED
    assert not PickAllocation.objects.filter(line__fulfilment=part).exists()
    assert all(quantity == 0 for quantity in picked(*lots))


# --- Who sees the pick list --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_the_cooperative_and_staff_see_the_households(request, role, part):
    [entry] = pick_list(request.getfixturevalue(role), part)
    names = {h["name"] for lot in entry["lots"] for h in lot["households"]}
    assert names == set(NAMES)


@pytest.fixture
def packed(manager_user, part):
    services.fulfilment_confirm(fulfilment=part, user=manager_user)
    services.fulfilment_pack(fulfilment=part, user=manager_user)
    return part


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner"])
def test_buyers_get_no_pick_list_and_no_household_names_anywhere(request, role, packed):
    client = request.getfixturevalue(role)
    detail = client.get(f"{FULFILMENTS}{packed.pk}/")
    assert detail.status_code == 200, detail.content
    assert detail.json()["pick_list"] is None
    listed = client.get(FULFILMENTS)
    assert [row["id"] for row in listed.json()["results"]] == [packed.pk]
    assert listed.json()["results"][0].get("pick_list") is None
    responses = [
        detail,
        listed,
        client.get(f"{ORDERS}{packed.order_id}/"),
        client.get(ORDERS),
        client.get(f"{ORDERS}{packed.order_id}/events/"),
    ]
    for response in responses:
        assert response.status_code == 200, response.content
        assert_no_households(response)


def test_the_buyers_transition_answers_carry_no_households(purchaser, manager_user, packed):
    services.fulfilment_ship(fulfilment=packed, user=manager_user)
    for action in ("deliver", "complete"):
        response = purchaser.post(f"{FULFILMENTS}{packed.pk}/{action}/", {}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["pick_list"] is None
        assert_no_households(response)


def test_another_cooperatives_manager_cannot_read_the_pick_list(other_manager, part):
    assert_error(other_manager.get(f"{FULFILMENTS}{part.pk}/"), 404, "not_found")


def assert_no_households(response):
    text = response.content.decode()
    assert "households" not in text
    for name in NAMES:
        assert name not in text


# --- Who sees which parts ---------------------------------------------------------------------


@pytest.fixture
def parts(purchaser_user, other_purchaser_user, store, other_store, cooperative, other_cooperative):
    """`organisation`'s order split between both cooperatives, and `other_organisation`'s order
    from `cooperative`."""
    ours, theirs = (
        ListingFactory(cooperative=cooperative),
        ListingFactory(cooperative=other_cooperative),
    )
    split = place(purchaser_user, store, (ours, "30"), (theirs, "30"))
    other = place(other_purchaser_user, other_store, (ours, "30"))
    return {
        "ours_coop": split.fulfilments.get(cooperative=cooperative).pk,
        "ours_other_coop": split.fulfilments.get(cooperative=other_cooperative).pk,
        "theirs_coop": other.fulfilments.get().pk,
    }


def listed_ids(client) -> set[int]:
    response = client.get(FULFILMENTS)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


VISIBLE = {
    "manager": {"ours_coop", "theirs_coop"},
    "other_manager": {"ours_other_coop"},
    "purchaser": {"ours_coop", "ours_other_coop"},
    "approver": {"ours_coop", "ours_other_coop"},
    "partner": {"ours_coop", "ours_other_coop"},
    "other_purchaser": {"theirs_coop"},
    "staff": {"ours_coop", "ours_other_coop", "theirs_coop"},
}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_each_role_lists_exactly_its_parts(request, role, parts):
    client = request.getfixturevalue(role)
    assert listed_ids(client) == {parts[key] for key in VISIBLE[role]}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_each_role_reads_its_parts_and_gets_404_for_the_rest(request, role, parts):
    client = request.getfixturevalue(role)
    for key, pk in parts.items():
        response = client.get(f"{FULFILMENTS}{pk}/")
        if key in VISIBLE[role]:
            assert response.status_code == 200, (key, response.content)
            assert response.json()["id"] == pk
        else:
            assert_error(response, 404, "not_found")


@pytest.mark.parametrize("role", ["manager", "purchaser"])
def test_a_filter_never_widens_what_a_role_sees(request, role, parts, other_cooperative):
    client = request.getfixturevalue(role)
    response = client.get(FULFILMENTS, {"cooperative": other_cooperative.pk})
    ids = {row["id"] for row in response.json()["results"]}
    assert ids <= {parts[key] for key in VISIBLE[role]}


def test_anonymous_gets_401(anon, parts):
    assert_error(anon.get(FULFILMENTS), 401)
    assert_error(anon.get(f"{FULFILMENTS}{parts['ours_coop']}/"), 401)


def test_a_buyer_without_an_organisation_sees_no_parts(buyer, parts):
    assert_error(buyer.get(FULFILMENTS), 403, "permission_denied")
    for pk in parts.values():
        assert_error(buyer.get(f"{FULFILMENTS}{pk}/"), 403, "permission_denied")


def test_a_manager_without_a_cooperative_sees_no_parts(parts):
    client = client_for(UserFactory(role=User.Role.COOPERATIVE_MANAGER))
    assert listed_ids(client) == set()
    assert_error(client.get(f"{FULFILMENTS}{parts['ours_coop']}/"), 404, "not_found")


# --- Parts the cooperative never received --------------------------------------------------------


def test_a_part_cancelled_while_waiting_for_approval_stays_hidden_from_the_cooperative(
    manager, purchaser, purchaser_user, store, listing, lots, organisation
):
    organisation.approval_threshold = Decimal("100.00")
    organisation.save()
    order = place(purchaser_user, store, (listing, "30"))  # ¥2,040: waits for the approver
    part = order.fulfilments.get()
    assert part.status == S.PENDING_APPROVAL
    assert manager.get(f"{FULFILMENTS}{part.pk}/").status_code == 404
    assert purchaser.post(f"{ORDERS}{order.pk}/cancel/", {}, format="json").status_code == 200
    assert manager.get(f"{FULFILMENTS}{part.pk}/").status_code == 404
    assert manager.get(FULFILMENTS).json()["results"] == []


def test_staff_cancel_leaves_shipped_parts_and_cancels_the_rest(
    staff, purchaser_user, manager_user, store, listing, lots, other_cooperative
):
    other = ListingFactory(cooperative=other_cooperative)
    LotFactory(listing=other, quantity=Decimal("100"))
    order = place(purchaser_user, store, (listing, "20"), (other, "20"))
    shipped = order.fulfilments.get(cooperative=listing.cooperative)
    for move in (services.fulfilment_confirm, services.fulfilment_pack, services.fulfilment_ship):
        move(fulfilment=shipped, user=manager_user)
    response = staff.post(f"{ORDERS}{order.pk}/cancel/", {"reason": "store closed"}, format="json")
    assert response.status_code == 200, response.content
    statuses = {f["cooperative"]: f["status"] for f in response.json()["fulfilments"]}
    assert statuses == {listing.cooperative_id: S.SHIPPED, other_cooperative.pk: S.CANCELLED}


# --- A move's answer is the part as read back ---------------------------------------------------


@pytest.mark.parametrize("short", [False, True])
def test_each_moves_answer_is_the_part_as_read_back(
    manager, purchaser, staff, purchaser_user, store, listing, lots, short
):
    """A move answers from the rows it locked and wrote (orders/views.py): what it answers is
    exactly what reading the part afterwards answers, for the manager (pick list, households)
    and for the buyer, in full and with short confirmations and deliveries, picked by hand."""
    other = ListingFactory(cooperative=listing.cooperative)
    lot_with(other, "OT-1", "2025-08-01", [(HouseholdFactory(cooperative=other.cooperative), "40")])
    order = place(purchaser_user, store, (listing, "30"), (other, "20"))
    part = order.fulfilments.get()
    lines = {line.listing_id: line.pk for line in part.lines.all()}
    old, new = lots
    moves = [
        (
            manager,
            "confirm",
            {"lines": [{"line": lines[other.pk], "quantity": "15"}]} if short else {},
        ),
        (
            manager,
            "pack",
            {
                "picks": [
                    {"line": lines[listing.pk], "lot": new.pk, "quantity": "25"},
                    {"line": lines[listing.pk], "lot": old.pk, "quantity": "5"},
                ]
            }
            if short
            else {},
        ),
        (manager, "ship", {}),
        (
            purchaser,
            "deliver",
            {
                "lines": [
                    {
                        "line": lines[listing.pk],
                        "accepted_quantity": "28",
                        "issue": "quality",
                        "note": "两箱破损",
                    }
                ]
            }
            if short
            else {},
        ),
        (staff, "complete", {}),
    ]
    for client, move, body in moves:
        answer = client.post(f"{FULFILMENTS}{part.pk}/{move}/", body, format="json")
        assert answer.status_code == 200, (move, answer.content)
        read_back = client.get(f"{FULFILMENTS}{part.pk}/")
        assert answer.json() == read_back.json(), move
