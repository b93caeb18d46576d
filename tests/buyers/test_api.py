"""/api/v1/buyers/ and /api/v1/stores/: who sees and writes buyer organisations and their
stores, and how bad input is refused (the one error shape, the field named, nothing written)."""

import pytest
from django.core.exceptions import ValidationError

from backend.validators import credit_code_check_character
from buyers.models import BuyerOrganisation, Store
from buyers.services import store_update
from tests.conftest import assert_error
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

BUYERS = "/api/v1/buyers/"
STORES = "/api/v1/stores/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def credit_code(first17: str = "91520102MA6H12345") -> str:
    return first17 + credit_code_check_character(first17)


def new_organisation(**overrides) -> dict:
    payload = {
        "name_zh": "惠民生鲜超市连锁有限公司",
        "name_en": "Huimin Fresh",
        "kind": "supermarket_chain",
        "credit_code": credit_code(),
        "contact_phone": "0851 8582 1234",
        "approval_threshold": "20000.00",
    }
    payload.update(overrides)
    return payload


def new_store(owner, **overrides) -> dict:
    payload = {
        "organisation": owner.pk,
        "name": "新华路店",
        "address": "贵阳市南明区新华路 88 号",
        "contact_name": "张丽",
        "contact_phone": "139 1234 5678",
    }
    payload.update(overrides)
    return payload


# --- /buyers/: reading ------------------------------------------------------------------------


def test_anonymous_gets_401(anon, organisation, store):
    assert_error(anon.get(BUYERS), 401, "not_authenticated")
    assert_error(anon.get(f"{BUYERS}{organisation.pk}/"), 401)
    assert_error(anon.get(STORES), 401)
    assert_error(anon.get(f"{STORES}{store.pk}/"), 401)


def test_staff_list_every_organisation(staff, organisation, other_organisation):
    assert ids(staff.get(BUYERS)) == {organisation.pk, other_organisation.pk}
    assert staff.get(f"{BUYERS}{other_organisation.pk}/").status_code == 200


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner"])
def test_members_see_only_their_organisation_with_stores_and_members(
    request, role, organisation, store, other_organisation, other_store, purchaser_user
):
    client = request.getfixturevalue(role)
    assert ids(client.get(BUYERS)) == {organisation.pk}
    body = client.get(f"{BUYERS}{organisation.pk}/").json()
    assert [s["id"] for s in body["stores"]] == [store.pk]
    assert purchaser_user.pk in {m["user"] for m in body["members"]}
    roles = {m["user"]: m["role"] for m in body["members"]}
    assert roles[client.user.pk] in {"purchaser", "approver"}
    assert_error(client.get(f"{BUYERS}{other_organisation.pk}/"), 404, "not_found")


@pytest.mark.parametrize("role", ["manager", "buyer"])
def test_managers_and_buyers_without_organisation_see_none(request, role, organisation):
    client = request.getfixturevalue(role)
    assert ids(client.get(BUYERS)) == set()
    assert_error(client.get(f"{BUYERS}{organisation.pk}/"), 404, "not_found")


# --- /buyers/: writing ------------------------------------------------------------------------


def test_staff_create_an_organisation_with_a_normalised_phone(staff):
    response = staff.post(BUYERS, new_organisation(), format="json")
    assert response.status_code == 201, response.content
    organisation = BuyerOrganisation.objects.get(pk=response.json()["id"])
    assert organisation.contact_phone == "+8685185821234"
    assert organisation.credit_code == credit_code()
    assert response.json()["stores"] == [] and response.json()["members"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_code", "91520102MA6H1234"),  # 17 characters
        ("credit_code", "91520102MA6H12345I"),  # I is not in the alphabet
        ("credit_code", "91520102MA6H12345" + "0"),  # wrong check character (it is not 0)
        ("contact_phone", "12345"),
        ("contact_phone", "+1 212 555 0100"),  # not mainland China
        ("kind", "bank"),
        ("approval_threshold", "-1"),
    ],
)
def test_bad_organisation_input_is_400_naming_the_field(staff, field, value):
    assert credit_code()[-1] != "0"  # so the third case really has a wrong check character
    response = staff.post(BUYERS, new_organisation(**{field: value}), format="json")
    assert_error(response, 400, "validation_error", field)
    assert not BuyerOrganisation.objects.exists()


def test_a_repeated_credit_code_is_refused(staff, organisation):
    response = staff.post(
        BUYERS, new_organisation(credit_code=organisation.credit_code), format="json"
    )
    assert_error(response, 400, "validation_error", "credit_code")
    assert BuyerOrganisation.objects.count() == 1


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner", "manager", "buyer"])
def test_only_staff_create_or_change_organisations(request, role, organisation):
    client = request.getfixturevalue(role)
    assert_error(client.post(BUYERS, new_organisation(), format="json"), 403, "permission_denied")
    response = client.patch(f"{BUYERS}{organisation.pk}/", {"approval_threshold": "1"})
    assert_error(response, 403, "permission_denied")
    organisation.refresh_from_db()
    assert organisation.approval_threshold is None
    assert BuyerOrganisation.objects.count() == 1


# --- /stores/ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["purchaser", "approver", "partner"])
def test_members_read_their_own_stores_only(request, role, store, other_store):
    client = request.getfixturevalue(role)
    assert ids(client.get(STORES)) == {store.pk}
    assert client.get(f"{STORES}{store.pk}/").status_code == 200
    assert_error(client.get(f"{STORES}{other_store.pk}/"), 404, "not_found")


@pytest.mark.parametrize("role", ["manager", "buyer"])
def test_non_members_see_no_stores(request, role, store):
    client = request.getfixturevalue(role)
    assert ids(client.get(STORES)) == set()
    assert_error(client.get(f"{STORES}{store.pk}/"), 404, "not_found")


def test_staff_see_every_store(staff, store, other_store):
    assert ids(staff.get(STORES)) == {store.pk, other_store.pk}


@pytest.mark.parametrize("role", ["approver", "staff"])
def test_approvers_and_staff_create_stores_with_a_normalised_phone(request, role, organisation):
    client = request.getfixturevalue(role)
    response = client.post(STORES, new_store(organisation), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["contact_phone"] == "+8613912345678"
    created = Store.objects.get(pk=response.json()["id"])
    assert (created.organisation, created.contact_phone) == (organisation, "+8613912345678")


def test_a_store_name_taken_in_the_organisation_is_a_400_naming_it(staff, store):
    """Unique together (organisation, name): the error names the fields, not none."""
    response = staff.post(STORES, new_store(store.organisation, name=store.name), format="json")
    error = assert_error(response, 400, "validation_error", "name")
    assert set(error["fields"]) == {"organisation", "name"}
    assert Store.objects.count() == 1


def test_the_service_names_the_fields_unique_together_too(store):
    """Model validation (a write that skips the serializer's check) files the refusal under
    the fields, not under none."""
    other = StoreFactory(organisation=store.organisation)
    with pytest.raises(ValidationError) as refused:
        store_update(store=other, data={"name": store.name})
    assert set(refused.value.message_dict) == {"organisation", "name"}


@pytest.mark.parametrize("role", ["purchaser", "partner", "manager", "buyer"])
def test_others_may_not_create_stores(request, role, organisation):
    client = request.getfixturevalue(role)
    response = client.post(STORES, new_store(organisation), format="json")
    assert_error(response, 403, "permission_denied")
    assert not Store.objects.exists()


def test_an_approver_may_not_add_a_store_to_another_organisation(approver, other_organisation):
    response = approver.post(STORES, new_store(other_organisation), format="json")
    assert_error(response, 403, "permission_denied", "organisation")
    assert not Store.objects.exists()


def test_an_approver_may_not_change_another_organisations_store(approver, other_store):
    response = approver.patch(f"{STORES}{other_store.pk}/", {"name": "改名"}, format="json")
    assert_error(response, 404, "not_found")
    other_store.refresh_from_db()
    assert other_store.name != "改名"


def test_a_store_does_not_change_organisation(approver, store, other_organisation):
    response = approver.patch(
        f"{STORES}{store.pk}/", {"organisation": other_organisation.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    store.refresh_from_db()
    assert store.organisation_id != other_organisation.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [("contact_phone", "12345"), ("name", ""), ("address", ""), ("organisation", 10**9)],
)
def test_bad_store_input_is_400_naming_the_field(approver, organisation, field, value):
    response = approver.post(STORES, new_store(organisation, **{field: value}), format="json")
    assert_error(response, 400, "validation_error", field)
    assert not Store.objects.exists()


def test_two_stores_of_one_organisation_may_not_share_a_name(approver, organisation):
    StoreFactory(organisation=organisation, name="新华路店")
    assert_error(approver.post(STORES, new_store(organisation), format="json"), 400)
    assert Store.objects.count() == 1
