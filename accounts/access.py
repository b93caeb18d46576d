"""Role predicates: what kind of account is asking. Which rows a role may see or change is each
domain app's own ``access.py`` (suppliers, buyers, products, orders); they build on these.

This module imports no other app: accounts is the floor the domain apps stand on."""

from rest_framework.permissions import BasePermission

from .models import User


def is_signed_in(user) -> bool:
    return bool(user and user.is_authenticated)


def is_staff(user) -> bool:
    return is_signed_in(user) and user.role == User.Role.STAFF


def is_manager(user) -> bool:
    """A cooperative manager (of some cooperative; suppliers.access says which)."""
    return is_signed_in(user) and user.role == User.Role.COOPERATIVE_MANAGER


def is_buyer_account(user) -> bool:
    """A buyer person or a partner system: accounts that act for a buyer organisation
    (buyers.access says which)."""
    return is_signed_in(user) and user.role in (User.Role.BUYER, User.Role.PARTNER)


class SignedInPermission(BasePermission):
    """The base of every API permission: anonymous requests are a 401 everywhere. Subclasses
    say ``allows(request, view)`` (collection level) and ``allows_object(request, view, obj)``
    by asking their app's access predicates; they decide nothing themselves."""

    def has_permission(self, request, view):
        return is_signed_in(request.user) and self.allows(request, view)

    def has_object_permission(self, request, view, obj):
        return self.allows_object(request, view, obj)

    def allows(self, request, view) -> bool:
        return True

    def allows_object(self, request, view, obj) -> bool:
        return True
