"""The database keeps the suppliers' invariants even when validation is bypassed
(QuerySet.update, bulk_create): a bug or a script cannot store a bad row."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from suppliers.models import Cooperative, Household
from tests.factories import CooperativeFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


def refused(write):
    """True when the database refuses the write with an IntegrityError."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()
    return True


@pytest.mark.parametrize(
    "code",
    [
        "91350100I000100Y43",  # I is not in the alphabet
        "91350100M000100Y4",  # 17 characters
        "91350100m000100y43",  # lower case
    ],
)
def test_credit_code_format_is_a_database_constraint(cooperative, code):
    assert refused(lambda: Cooperative.objects.filter(pk=cooperative.pk).update(credit_code=code))
    cooperative.refresh_from_db()
    assert cooperative.credit_code != code


def test_credit_code_format_holds_on_bulk_create():
    row = CooperativeFactory.build(credit_code="IIIIIIIIIIIIIIIIII")
    assert refused(lambda: Cooperative.objects.bulk_create([row]))
    assert not Cooperative.objects.exists()


def test_credit_code_is_unique(cooperative, other_cooperative):
    assert refused(
        lambda: Cooperative.objects.filter(pk=other_cooperative.pk).update(
            credit_code=cooperative.credit_code
        )
    )


@pytest.mark.parametrize("rate", [Decimal("-0.0001"), Decimal("1"), Decimal("5")])
def test_commission_rate_range_is_a_database_constraint(cooperative, rate):
    assert refused(
        lambda: Cooperative.objects.filter(pk=cooperative.pk).update(commission_rate=rate)
    )


def test_commission_rate_range_holds_on_bulk_create():
    row = CooperativeFactory.build(commission_rate=Decimal("-0.01"))
    assert refused(lambda: Cooperative.objects.bulk_create([row]))


def test_commission_rate_edges_are_stored(cooperative):
    Cooperative.objects.filter(pk=cooperative.pk).update(commission_rate=Decimal("0"))
    Cooperative.objects.filter(pk=cooperative.pk).update(commission_rate=Decimal("0.9999"))
    cooperative.refresh_from_db()
    assert cooperative.commission_rate == Decimal("0.9999")


def test_household_on_poverty_list_needs_registration_number(cooperative):
    household = HouseholdFactory(cooperative=cooperative)
    assert refused(lambda: Household.objects.filter(pk=household.pk).update(on_poverty_list=True))


def test_household_off_poverty_list_has_no_registration_number(cooperative):
    household = HouseholdFactory(cooperative=cooperative)
    assert refused(
        lambda: Household.objects.filter(pk=household.pk).update(
            poverty_registration_no="522326-2016-0001"
        )
    )


def test_household_poverty_consistency_holds_on_bulk_create(cooperative):
    rows = [HouseholdFactory.build(cooperative=cooperative, on_poverty_list=True)]
    assert refused(lambda: Household.objects.bulk_create(rows))
    assert not Household.objects.exists()


def test_consistent_poverty_rows_are_stored(cooperative):
    Household.objects.bulk_create(
        [
            HouseholdFactory.build(
                cooperative=cooperative, on_poverty_list=True, poverty_registration_no="A-1"
            ),
            HouseholdFactory.build(cooperative=cooperative),
        ]
    )
    assert Household.objects.count() == 2


def test_poverty_registration_number_is_unique(cooperative, other_cooperative):
    HouseholdFactory(cooperative=cooperative, on_poverty_list=True, poverty_registration_no="A-1")
    duplicate = HouseholdFactory.build(
        cooperative=other_cooperative, on_poverty_list=True, poverty_registration_no="A-1"
    )
    assert refused(lambda: Household.objects.bulk_create([duplicate]))


def test_poverty_registration_number_is_unique_on_update(cooperative):
    HouseholdFactory(cooperative=cooperative, on_poverty_list=True, poverty_registration_no="A-1")
    other = HouseholdFactory(cooperative=cooperative)
    assert refused(
        lambda: Household.objects.filter(pk=other.pk).update(
            on_poverty_list=True, poverty_registration_no="A-1"
        )
    )


def test_many_households_without_registration_number_are_allowed(cooperative):
    # The unique constraint is partial: the empty number of households off the list is shared.
    Household.objects.bulk_create([HouseholdFactory.build(cooperative=cooperative) for _ in "abc"])
    assert Household.objects.filter(poverty_registration_no="").count() == 3


def test_household_cooperative_is_protected(cooperative):
    HouseholdFactory(cooperative=cooperative)
    with pytest.raises(ProtectedError):
        cooperative.delete()
