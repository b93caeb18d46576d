"""Only the constraints our models declare become a 409; any other IntegrityError (NOT NULL,
foreign key, a third-party table's) is a bug: a 500 in the error shape, logged at ERROR."""

import logging
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction

from backend.errors import exception_handler
from backend.integrity import is_known_violation, known_constraints
from products import services
from products.models import Category, Listing
from tests.conftest import assert_error
from tests.factories import CategoryFactory, ListingFactory

pytestmark = pytest.mark.django_db


def violation(write) -> IntegrityError:
    """The IntegrityError ``write`` raises, its transaction rolled back."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


def test_the_known_names_come_from_the_models():
    names, unique_columns = known_constraints()
    assert {"listing_on_hand_gte_0", "lot_code_unique_per_listing"} <= names  # Meta
    assert "products_category_slug_key" in names  # a unique field
    assert "products_listing_lead_time_days_check" in names  # a positive integer field
    assert ("products_category", frozenset({"slug"})) in unique_columns
    assert not any(name.startswith(("auth_", "knox_")) for name in names)


def test_a_duplicate_of_a_unique_field_is_a_409():
    CategoryFactory(slug="honey")
    exc = violation(lambda: Category.objects.create(slug="honey", name_zh="蜂蜜"))
    response = exception_handler(exc, {})
    assert response.status_code == 409
    assert response.data["error"]["code"] == "conflict"


def test_a_check_constraint_of_ours_is_a_409():
    listing = ListingFactory()
    exc = violation(lambda: Listing.objects.filter(pk=listing.pk).update(stock_on_hand=-1))
    assert exception_handler(exc, {}).status_code == 409


def test_a_not_null_violation_is_a_server_error_logged(caplog):
    exc = violation(lambda: Category.objects.create(slug=None, name_zh="空"))
    with caplog.at_level(logging.ERROR, logger="backend.errors"):
        assert exception_handler(exc, {}) is None  # Django answers 500 in the shape
    assert any(record.levelno == logging.ERROR for record in caplog.records)


def test_a_foreign_key_violation_is_a_server_error():
    def write():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Category.objects.create(slug="orphan", name_zh="孤", parent_id=2**40)

    assert exception_handler(violation(write), {}) is None


def test_a_third_party_tables_constraint_is_not_ours():
    Group.objects.create(name="ops")
    exc = violation(lambda: Group.objects.create(name="ops"))
    assert not is_known_violation(exc)
    assert exception_handler(exc, {}) is None


def test_a_not_null_violation_in_a_view_answers_500_in_the_shape(staff, monkeypatch):
    def broken(**data):
        return Category.objects.create(slug=None, name_zh=data["name_zh"])

    monkeypatch.setattr(services, "category_create", broken)
    staff.raise_request_exception = False
    response = staff.post("/api/v1/categories/", {"slug": "x", "name_zh": "x"}, format="json")
    assert_error(response, 500, "server_error")


@pytest.mark.parametrize(
    ("message", "known"),
    [
        ("UNIQUE constraint failed: products_category.slug", True),
        ("UNIQUE constraint failed: products_lot.listing_id, products_lot.code", True),
        ("UNIQUE constraint failed: index 'listing_one_live_per_cooperative_product_grade'", True),
        ("CHECK constraint failed: listing_on_hand_gte_0", True),
        ("NOT NULL constraint failed: products_category.slug", False),
        ("FOREIGN KEY constraint failed", False),
        ("UNIQUE constraint failed: auth_group.name", False),
        ("CHECK constraint failed: something_else", False),
    ],
)
def test_sqlite_messages_are_read_for_the_constraint(message, known):
    assert is_known_violation(IntegrityError(message)) is known


def test_only_the_live_slot_race_is_the_listing_conflict(monkeypatch, cooperative):
    """_save_listing took every IntegrityError for the race for the live slot; another one
    is a bug and must reach the handler as itself."""
    from products.models import Grade
    from tests.factories import ProductFactory

    def broken_save(self, *args, **kwargs):
        raise IntegrityError("NOT NULL constraint failed: products_listing.grade")

    monkeypatch.setattr(Listing, "save", broken_save)
    with pytest.raises(IntegrityError):
        services.listing_create(
            cooperative=cooperative,
            product=ProductFactory(),
            grade=Grade.FIRST,
            min_order_quantity=Decimal("10"),
            order_increment=Decimal("5"),
            tiers=[{"min_quantity": Decimal("10"), "unit_price": Decimal("60.00")}],
        )


def test_the_live_slot_race_is_still_a_conflict(monkeypatch, cooperative):
    from backend.errors import Conflict
    from products.models import Grade
    from tests.factories import ProductFactory

    def lost_race(self, *args, **kwargs):
        raise IntegrityError(
            "UNIQUE constraint failed: index 'listing_one_live_per_cooperative_product_grade'"
        )

    monkeypatch.setattr(Listing, "save", lost_race)
    with pytest.raises(Conflict):
        services.listing_create(
            cooperative=cooperative,
            product=ProductFactory(),
            grade=Grade.FIRST,
            min_order_quantity=Decimal("10"),
            order_increment=Decimal("5"),
            tiers=[{"min_quantity": Decimal("10"), "unit_price": Decimal("60.00")}],
        )
