"""The user table's CheckConstraints hold at the database level, whatever code writes it."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "is_staff"),
    [
        (User.Role.STAFF, False),  # staff role without admin access
        (User.Role.BUYER, True),  # admin access without the staff role
        (User.Role.COOPERATIVE_MANAGER, True),
        (User.Role.PARTNER, True),
    ],
)
def test_staff_role_and_is_staff_go_together_on_insert(role, is_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(phone="+8613800000001", name="x", role=role, is_staff=is_staff)
    assert not User.objects.filter(phone="+8613800000001").exists()


def test_staff_role_and_is_staff_go_together_on_update():
    buyer = UserFactory(role=User.Role.BUYER)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=buyer.pk).update(is_staff=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=buyer.pk).update(role=User.Role.STAFF)
    buyer.refresh_from_db()
    assert (buyer.role, buyer.is_staff) == (User.Role.BUYER, False)


def test_staff_role_with_is_staff_is_stored():
    user = User.objects.create(phone="+8613800000002", name="x", role="staff", is_staff=True)
    User.objects.filter(pk=user.pk).update(role=User.Role.BUYER, is_staff=False)
    user.refresh_from_db()
    assert user.role == User.Role.BUYER


@pytest.mark.parametrize("role", ["admin", "", "STAFF"])
def test_unknown_role_is_refused(role):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(phone="+8613800000003", name="x", role=role)


def test_phone_is_unique():
    UserFactory(phone="+8613800000004")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(phone="+8613800000004", name="y", role=User.Role.BUYER)
