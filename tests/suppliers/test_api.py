"""Who may read and write cooperatives and households, what each role sees, and how bad input
is refused (4xx in the one error shape, the field named, nothing written)."""

import importlib
import json
from decimal import Decimal

import pytest

from backend.validators import credit_code_check_character
from suppliers.models import Cooperative, Household
from tests.conftest import assert_error
from tests.factories import (
    CooperativeFactory,
    HouseholdFactory,
    ListingFactory,
    LotContributionFactory,
    LotFactory,
)

pytestmark = pytest.mark.django_db

COOPERATIVES = "/api/v1/cooperatives/"
HOUSEHOLDS = "/api/v1/households/"
LOTS = "/api/v1/lots/"
LISTINGS = "/api/v1/listings/"

PRIVATE_COOPERATIVE_FIELDS = {"payout_reference", "stripe_account", "commission_rate", "managers"}
NOT_STAFF = ["manager", "buyer", "partner"]
EVERY_ROLE = ["staff", "manager", "other_manager", "buyer", "partner"]


def text_of(response) -> str:
    """The decoded JSON as text, so a name is found whether or not it was \\u-escaped."""
    return json.dumps(response.json(), ensure_ascii=False)


def coop_url(cooperative) -> str:
    return f"{COOPERATIVES}{cooperative.id}/"


def household_url(household) -> str:
    return f"{HOUSEHOLDS}{household.id}/"


def credit_code(first17: str = "93522326MA6H12345") -> str:
    return first17 + credit_code_check_character(first17)


def new_cooperative(**overrides) -> dict:
    payload = {
        "name_zh": "望谟县石屯镇蜂业专业合作社",
        "name_en": "Shitun Bee-keeping Cooperative",
        "credit_code": credit_code(),
        "village": "石屯村",
        "contact_phone": "13912345678",
    }
    payload.update(overrides)
    return payload


def new_household(cooperative, **overrides) -> dict:
    payload = {"cooperative": cooperative.id, "name": "罗安分", "village": "石屯村"}
    payload.update(overrides)
    return payload


# --- Anonymous --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cooperative", "household"])
def test_anonymous_gets_401(anon, cooperative, kind):
    if kind == "cooperative":
        list_url, detail_url = COOPERATIVES, coop_url(cooperative)
        payload = new_cooperative()
    else:
        list_url = HOUSEHOLDS
        detail_url = household_url(HouseholdFactory(cooperative=cooperative))
        payload = new_household(cooperative)
    assert_error(anon.get(list_url), 401)
    assert_error(anon.get(detail_url), 401)
    assert_error(anon.post(list_url, payload, format="json"), 401)
    assert_error(anon.patch(detail_url, {"village": "x"}, format="json"), 401)


# --- Cooperatives: who reads, who writes ------------------------------------------------------


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_every_role_reads_cooperatives(request, cooperative, role):
    client = request.getfixturevalue(role)
    listed = client.get(COOPERATIVES)
    assert listed.status_code == 200, listed.content
    assert cooperative.id in {row["id"] for row in listed.json()["results"]}
    detail = client.get(coop_url(cooperative))
    assert detail.status_code == 200
    assert detail.json()["name_zh"] == cooperative.name_zh
    assert detail.json()["credit_code"] == cooperative.credit_code


def test_staff_creates_a_cooperative(staff, manager_user):
    response = staff.post(COOPERATIVES, new_cooperative(managers=[manager_user.id]), format="json")
    assert response.status_code == 201, response.content
    created = Cooperative.objects.get(pk=response.json()["id"])
    assert created.credit_code == credit_code()
    assert list(created.managers.all()) == [manager_user]


def test_staff_create_a_cooperative_inactive(staff):
    """is_active is writable, and creating with it was a TypeError in the service (a 500,
    found by schemathesis)."""
    response = staff.post(COOPERATIVES, new_cooperative(is_active=False), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is False
    assert Cooperative.objects.get(pk=response.json()["id"]).is_active is False


@pytest.mark.parametrize("role", NOT_STAFF)
def test_only_staff_create_cooperatives(request, cooperative, role):
    client = request.getfixturevalue(role)
    before = Cooperative.objects.count()
    response = client.post(COOPERATIVES, new_cooperative(), format="json")
    assert_error(response, 403, "permission_denied")
    assert Cooperative.objects.count() == before


def test_staff_updates_a_cooperative(staff, cooperative):
    response = staff.patch(coop_url(cooperative), {"village": "坝相村"}, format="json")
    assert response.status_code == 200, response.content
    cooperative.refresh_from_db()
    assert cooperative.village == "坝相村"


@pytest.mark.parametrize("role", NOT_STAFF)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_only_staff_update_cooperatives(request, cooperative, role, method):
    # `manager` manages this very cooperative and still may not edit it.
    client = request.getfixturevalue(role)
    payload = new_cooperative(name_zh="改名", credit_code=cooperative.credit_code)
    response = getattr(client, method)(coop_url(cooperative), payload, format="json")
    assert_error(response, 403, "permission_denied")
    cooperative.refresh_from_db()
    assert cooperative.name_zh != "改名"


@pytest.mark.parametrize("role", ["staff", "manager", "buyer", "partner"])
def test_nobody_deletes_a_cooperative(request, cooperative, role):
    response = request.getfixturevalue(role).delete(coop_url(cooperative))
    assert_error(response, 405 if role == "staff" else 403)
    assert Cooperative.objects.filter(pk=cooperative.pk).exists()


# --- Cooperatives: private business details ---------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_staff_and_own_managers_see_private_fields(request, cooperative, manager_user, role):
    data = request.getfixturevalue(role).get(coop_url(cooperative)).json()
    assert PRIVATE_COOPERATIVE_FIELDS <= set(data)
    assert data["payout_reference"] == cooperative.payout_reference
    assert Decimal(data["commission_rate"]) == cooperative.commission_rate
    assert data["managers"] == [manager_user.id]


@pytest.mark.parametrize("role", ["buyer", "partner", "other_manager"])
def test_private_fields_are_hidden_from_others(request, cooperative, manager_user, role):
    client = request.getfixturevalue(role)
    detail = client.get(coop_url(cooperative))
    assert detail.status_code == 200
    assert not PRIVATE_COOPERATIVE_FIELDS & set(detail.json())
    assert cooperative.payout_reference not in text_of(detail)

    listed = client.get(COOPERATIVES).json()["results"]
    row = next(row for row in listed if row["id"] == cooperative.id)
    assert not PRIVATE_COOPERATIVE_FIELDS & set(row)


def test_manager_sees_private_fields_of_own_cooperative_only_in_the_list(
    manager, cooperative, other_cooperative
):
    rows = {row["id"]: row for row in manager.get(COOPERATIVES).json()["results"]}
    assert PRIVATE_COOPERATIVE_FIELDS <= set(rows[cooperative.id])
    assert not PRIVATE_COOPERATIVE_FIELDS & set(rows[other_cooperative.id])


def test_private_fields_cannot_be_asked_for_by_others(buyer, cooperative):
    response = buyer.get(coop_url(cooperative), {"fields": "id,payout_reference"})
    assert response.status_code == 200
    assert "payout_reference" not in text_of(response)


def test_inactive_cooperative_is_hidden_from_buyers_not_from_its_managers(
    buyer, manager, staff, cooperative
):
    Cooperative.objects.filter(pk=cooperative.pk).update(is_active=False)
    assert_error(buyer.get(coop_url(cooperative)), 404)
    assert manager.get(coop_url(cooperative)).status_code == 200
    assert staff.get(coop_url(cooperative)).status_code == 200


# --- Households: who sees them ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["buyer", "partner"])
def test_buyers_and_partners_get_403_on_households(request, cooperative, role):
    client = request.getfixturevalue(role)
    household = HouseholdFactory(cooperative=cooperative)
    assert_error(client.get(HOUSEHOLDS), 403, "permission_denied")
    assert_error(client.get(household_url(household)), 403, "permission_denied")
    assert_error(client.post(HOUSEHOLDS, new_household(cooperative), format="json"), 403)
    assert_error(client.delete(household_url(household)), 403)
    assert Household.objects.filter(pk=household.pk).exists()


def test_manager_lists_only_own_households(manager, cooperative, other_cooperative):
    own = {HouseholdFactory(cooperative=cooperative).id for _ in range(2)}
    HouseholdFactory(cooperative=other_cooperative)
    response = manager.get(HOUSEHOLDS)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == own


def test_manager_cannot_filter_into_another_cooperative(manager, other_cooperative):
    HouseholdFactory(cooperative=other_cooperative)
    response = manager.get(HOUSEHOLDS, {"cooperative": other_cooperative.id})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_staff_sees_all_households(staff, cooperative, other_cooperative):
    ids = {HouseholdFactory(cooperative=c).id for c in (cooperative, other_cooperative)}
    response = staff.get(HOUSEHOLDS)
    assert {row["id"] for row in response.json()["results"]} == ids


def test_manager_gets_404_on_another_cooperatives_household(manager, other_cooperative):
    household = HouseholdFactory(cooperative=other_cooperative, village="坝相村")
    url = household_url(household)
    assert_error(manager.get(url), 404, "not_found")
    assert_error(manager.patch(url, {"village": "石屯村"}, format="json"), 404, "not_found")
    assert_error(manager.delete(url), 404, "not_found")
    household.refresh_from_db()
    assert household.village == "坝相村"


def test_manager_reads_and_updates_own_household(manager, cooperative):
    household = HouseholdFactory(cooperative=cooperative)
    assert manager.get(household_url(household)).json()["name"] == household.name
    response = manager.patch(household_url(household), {"village": "坝相村"}, format="json")
    assert response.status_code == 200, response.content
    household.refresh_from_db()
    assert household.village == "坝相村"


def test_manager_creates_household_in_own_cooperative(manager, cooperative):
    response = manager.post(HOUSEHOLDS, new_household(cooperative), format="json")
    assert response.status_code == 201, response.content
    assert Household.objects.get(pk=response.json()["id"]).cooperative == cooperative


def test_manager_cannot_create_household_in_another_cooperative(manager, other_cooperative):
    response = manager.post(HOUSEHOLDS, new_household(other_cooperative), format="json")
    assert_error(response, 403, "permission_denied", "cooperative")
    assert not Household.objects.exists()


def test_household_cannot_be_moved_to_another_cooperative(manager, cooperative, other_cooperative):
    household = HouseholdFactory(cooperative=cooperative)
    manager.patch(household_url(household), {"cooperative": other_cooperative.id}, format="json")
    household.refresh_from_db()
    assert household.cooperative == cooperative


def test_staff_creates_household_in_any_cooperative(staff, other_cooperative):
    response = staff.post(HOUSEHOLDS, new_household(other_cooperative), format="json")
    assert response.status_code == 201, response.content


def test_household_with_unknown_cooperative_is_400(staff):
    payload = {"cooperative": 999_999, "name": "x", "village": "y"}
    response = staff.post(HOUSEHOLDS, payload, format="json")
    assert_error(response, 400, "validation_error", "cooperative")
    assert not Household.objects.exists()


def _lot_supplied_by(household):
    lot = LotFactory(listing=ListingFactory(cooperative=household.cooperative))
    LotContributionFactory(lot=lot, household=household, quantity=Decimal("50"))
    return lot


def test_deleting_a_household_with_lot_contributions_is_409(manager, staff, cooperative):
    household = HouseholdFactory(cooperative=cooperative)
    _lot_supplied_by(household)
    for client in (manager, staff):
        assert_error(client.delete(household_url(household)), 409, "conflict")
    assert Household.objects.filter(pk=household.pk).exists()


def test_deleting_a_household_without_contributions(manager, cooperative):
    household = HouseholdFactory(cooperative=cooperative)
    assert manager.delete(household_url(household)).status_code == 204
    assert not Household.objects.filter(pk=household.pk).exists()


# --- Household personal data never reaches buyers or partners ---------------------------------


@pytest.fixture
def traced_lot(cooperative):
    household = HouseholdFactory(
        cooperative=cooperative,
        name="韦秀英",
        phone="+8613988887777",
        on_poverty_list=True,
        poverty_registration_no="522326-2016-0042",
    )
    return _lot_supplied_by(household), household


@pytest.mark.parametrize("role", ["buyer", "partner", "other_manager"])
def test_lots_show_no_households_to_others(request, traced_lot, role):
    lot, _household = traced_lot
    client = request.getfixturevalue(role)
    detail = client.get(f"{LOTS}{lot.id}/")
    assert detail.status_code == 200, detail.content
    assert detail.json()["households"] is None
    assert detail.json()["household_count"] == 1  # the aggregate is public, the names are not
    listed = client.get(LOTS).json()["results"]
    assert [row["households"] for row in listed if row["id"] == lot.id] == [None]


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_lots_name_households_to_staff_and_own_managers(request, traced_lot, role):
    lot, household = traced_lot
    data = request.getfixturevalue(role).get(f"{LOTS}{lot.id}/").json()
    assert [row["name"] for row in data["households"]] == [household.name]


@pytest.mark.parametrize("role", ["buyer", "partner"])
def test_household_personal_data_in_no_response_to_buyers_or_partners(
    request, staff, traced_lot, cooperative, role
):
    lot, household = traced_lot
    # The search below does find the name where it is shown.
    assert household.name in text_of(staff.get(f"{LOTS}{lot.id}/"))
    client = request.getfixturevalue(role)
    urls = [
        COOPERATIVES,
        coop_url(cooperative),
        LISTINGS,
        f"{LISTINGS}{lot.listing_id}/",
        LOTS,
        f"{LOTS}{lot.id}/",
        f"{LOTS}?fields=id,households",
        HOUSEHOLDS,
        household_url(household),
    ]
    for url in urls:
        body = text_of(client.get(url))
        for secret in (household.name, household.phone, household.poverty_registration_no):
            assert secret not in body, (url, secret)


# --- Cooperative validation -------------------------------------------------------------------


def post_cooperative_refused(client, payload, field, status=400):
    before = Cooperative.objects.count()
    response = client.post(COOPERATIVES, payload, format="json")
    assert_error(response, status, "validation_error", field)
    assert Cooperative.objects.count() == before
    return response


@pytest.mark.parametrize(
    "code",
    [
        credit_code()[:17] + ("0" if credit_code()[17] != "0" else "1"),  # wrong check char
        credit_code()[:17],  # 17 characters
        credit_code() + "1",  # 19 characters
        "93522326MA6I1234" + "5" + "X",  # forbidden letter I
        credit_code().lower(),
    ],
)
def test_bad_credit_code_is_refused(staff, code):
    post_cooperative_refused(staff, new_cooperative(credit_code=code), "credit_code")


@pytest.mark.parametrize("first17", ["93522326MA6H12345", "91350100M000100Y4", "12100000000000000"])
def test_valid_credit_code_is_accepted(staff, first17):
    code = credit_code(first17)
    response = staff.post(COOPERATIVES, new_cooperative(credit_code=code), format="json")
    assert response.status_code == 201, response.content
    assert Cooperative.objects.get(pk=response.json()["id"]).credit_code == code


def test_duplicate_credit_code_is_400_on_the_field(staff, cooperative):
    payload = new_cooperative(credit_code=cooperative.credit_code)
    post_cooperative_refused(staff, payload, "credit_code")


@pytest.mark.parametrize("phone", ["12345", "1391234567", "+1 202 555 0100", "电话"])
def test_bad_contact_phone_is_refused(staff, phone):
    post_cooperative_refused(staff, new_cooperative(contact_phone=phone), "contact_phone")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+86 139 1234 5678", "+8613912345678"),
        ("139-1234-5678", "+8613912345678"),
        ("0859-4123456", "+868594123456"),  # a Qianxinan landline
    ],
)
def test_contact_phone_is_stored_in_e164(staff, raw, e164):
    response = staff.post(COOPERATIVES, new_cooperative(contact_phone=raw), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["contact_phone"] == e164
    assert Cooperative.objects.get(pk=response.json()["id"]).contact_phone == e164


@pytest.mark.parametrize("rate", ["-0.01", "0.5001", "0.6", "1", "99999"])
def test_commission_rate_out_of_range_is_refused(staff, rate):
    post_cooperative_refused(staff, new_cooperative(commission_rate=rate), "commission_rate")


@pytest.mark.parametrize("rate", ["0", "0.5"])
def test_commission_rate_edges_are_accepted(staff, rate):
    response = staff.post(COOPERATIVES, new_cooperative(commission_rate=rate), format="json")
    assert response.status_code == 201, response.content
    assert Decimal(response.json()["commission_rate"]) == Decimal(rate)


def test_too_long_name_is_refused(staff):
    post_cooperative_refused(staff, new_cooperative(name_zh="蜂" * 101), "name_zh")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name_zh", ["蜂业合作社"]),
        ("name_zh", {"zh": "蜂业合作社"}),
        ("commission_rate", "abc"),
        ("commission_rate", [0.03]),
        ("credit_code", 91350100),
        ("contact_phone", ["13912345678"]),
    ],
)
def test_wrong_types_are_refused(staff, field, value):
    post_cooperative_refused(staff, new_cooperative(**{field: value}), field)


@pytest.mark.parametrize("field", ["name_zh", "credit_code", "contact_phone"])
def test_required_fields_are_named(staff, field):
    payload = new_cooperative()
    del payload[field]
    post_cooperative_refused(staff, payload, field)


def test_malformed_json_is_400(staff):
    before = Cooperative.objects.count()
    response = staff.post(COOPERATIVES, '{"name_zh": ', content_type="application/json")
    assert_error(response, 400)
    assert Cooperative.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_code", "91350100M000100Y44"),
        ("contact_phone", "12345"),
        ("commission_rate", "0.9"),
        ("name_zh", "蜂" * 101),
    ],
)
def test_bad_update_is_refused_and_nothing_changes(staff, cooperative, field, value):
    before = Cooperative.objects.filter(pk=cooperative.pk).values().get()
    response = staff.patch(coop_url(cooperative), {field: value}, format="json")
    assert_error(response, 400, "validation_error", field)
    assert Cooperative.objects.filter(pk=cooperative.pk).values().get() == before


def test_update_to_another_cooperatives_credit_code_is_400(staff, cooperative):
    other = CooperativeFactory()
    response = staff.patch(coop_url(cooperative), {"credit_code": other.credit_code}, format="json")
    assert_error(response, 400, "validation_error", "credit_code")


def test_update_normalises_the_phone(staff, cooperative):
    response = staff.patch(coop_url(cooperative), {"contact_phone": "0859 412 3456"}, format="json")
    assert response.status_code == 200, response.content
    cooperative.refresh_from_db()
    assert cooperative.contact_phone == "+868594123456"


# --- Household validation ---------------------------------------------------------------------


def post_household_refused(client, payload, field):
    before = Household.objects.count()
    response = client.post(HOUSEHOLDS, payload, format="json")
    assert_error(response, 400, "validation_error", field)
    assert Household.objects.count() == before


def test_poverty_flag_without_registration_number_is_refused(manager, cooperative):
    payload = new_household(cooperative, on_poverty_list=True)
    post_household_refused(manager, payload, "poverty_registration_no")


def test_registration_number_without_poverty_flag_is_refused(manager, cooperative):
    payload = new_household(cooperative, poverty_registration_no="522326-2016-0001")
    post_household_refused(manager, payload, "poverty_registration_no")


def test_registered_household_is_accepted(manager, cooperative):
    payload = new_household(
        cooperative, on_poverty_list=True, poverty_registration_no="522326-2016-0001"
    )
    response = manager.post(HOUSEHOLDS, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["poverty_registration_no"] == "522326-2016-0001"


def test_duplicate_registration_number_is_refused(manager, cooperative, other_cooperative):
    HouseholdFactory(
        cooperative=other_cooperative, on_poverty_list=True, poverty_registration_no="A-1"
    )
    payload = new_household(cooperative, on_poverty_list=True, poverty_registration_no="A-1")
    post_household_refused(manager, payload, "poverty_registration_no")


def test_setting_the_poverty_flag_without_number_on_update_is_refused(manager, cooperative):
    household = HouseholdFactory(cooperative=cooperative)
    response = manager.patch(household_url(household), {"on_poverty_list": True}, format="json")
    assert_error(response, 400, "validation_error", "poverty_registration_no")
    household.refresh_from_db()
    assert household.on_poverty_list is False


@pytest.mark.parametrize("phone", ["12345", "+44 20 7946 0958"])
def test_bad_household_phone_is_refused(manager, cooperative, phone):
    post_household_refused(manager, new_household(cooperative, phone=phone), "phone")


@pytest.mark.parametrize("phone", ["139 8888 7777", "+86 139 8888 7777", "+86-139-8888-7777"])
def test_household_phone_is_stored_in_e164(manager, cooperative, phone):
    response = manager.post(HOUSEHOLDS, new_household(cooperative, phone=phone), format="json")
    assert response.status_code == 201, response.content
    assert Household.objects.get(pk=response.json()["id"]).phone == "+8613988887777"


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "王" * 51), ("name", ["王"]), ("on_poverty_list", "perhaps"), ("village", "")],
)
def test_bad_household_fields_are_refused(manager, cooperative, field, value):
    post_household_refused(manager, new_household(cooperative, **{field: value}), field)


def test_manager_sets_own_minimum_order_value_and_contact_phone(manager, cooperative):
    response = manager.patch(
        coop_url(cooperative),
        {"min_order_value": "800.00", "contact_phone": "139 8590 0009"},
        format="json",
    )
    assert response.status_code == 200, response.content
    cooperative.refresh_from_db()
    assert cooperative.min_order_value == Decimal("800.00")
    assert cooperative.contact_phone == "+8613985900009"


@pytest.mark.parametrize(
    "field,value",
    [("commission_rate", "0.01"), ("payout_reference", "x"), ("stripe_account", "acct_1Manager")],
)
def test_manager_cannot_change_what_the_platform_verifies(manager, cooperative, field, value):
    before = getattr(cooperative, field)
    response = manager.patch(coop_url(cooperative), {field: value}, format="json")
    assert_error(response, 403, "permission_denied", field=field)
    cooperative.refresh_from_db()
    assert getattr(cooperative, field) == before


def test_staff_set_a_stripe_connected_account(staff, cooperative):
    response = staff.patch(coop_url(cooperative), {"stripe_account": "acct_1Shitun"}, format="json")
    assert response.status_code == 200, response.content
    cooperative.refresh_from_db()
    assert cooperative.stripe_account == "acct_1Shitun"
    assert cooperative.payout_reference  # the bank details stay: the fallback without Stripe


@pytest.mark.parametrize("value", ["acct_", "1Shitun", "acct_1 Shitun", "acct_1Shitun-2", "ba_1x"])
def test_a_stripe_account_is_an_acct_id(staff, cooperative, value):
    response = staff.patch(coop_url(cooperative), {"stripe_account": value}, format="json")
    assert_error(response, 400, "validation_error", field="stripe_account")
    cooperative.refresh_from_db()
    assert cooperative.stripe_account == ""


def test_a_stripe_account_pays_one_cooperative(staff, cooperative, other_cooperative):
    other_cooperative.stripe_account = "acct_1Shitun"
    other_cooperative.save(update_fields=["stripe_account"])
    response = staff.patch(coop_url(cooperative), {"stripe_account": "acct_1Shitun"}, format="json")
    assert_error(response, 400, "validation_error", field="stripe_account")
    blank = staff.patch(coop_url(cooperative), {"stripe_account": ""}, format="json")
    assert blank.status_code == 200, blank.content  # any number of cooperatives have none


def test_manager_cannot_set_another_cooperatives_minimum(manager, other_cooperative):
    response = manager.patch(coop_url(other_cooperative), {"min_order_value": "1"}, format="json")
    assert_error(response, 403, "permission_denied")
    other_cooperative.refresh_from_db()
    assert other_cooperative.min_order_value == Decimal("0")


def test_the_migration_moves_connected_accounts_out_of_the_bank_details(cooperative):
    from django.apps import apps

    migration = importlib.import_module("suppliers.migrations.0003_cooperative_stripe_account")
    Cooperative.objects.filter(pk=cooperative.pk).update(payout_reference="acct_1Old")
    migration.move_connected_accounts(apps, None)
    cooperative.refresh_from_db()
    assert (cooperative.stripe_account, cooperative.payout_reference) == ("acct_1Old", "")
