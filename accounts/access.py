"""Role rules shared by the API views. Which rows a user sees is the selectors' job; these say
which roles may call what."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from suppliers.selectors import managed_cooperative_ids

from .models import User


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.role == User.Role.STAFF)


def is_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.role == User.Role.COOPERATIVE_MANAGER)


class ReadAnyWriteStaff(BasePermission):
    """The shared catalog (cooperatives, products, categories): every signed-in role reads it,
    platform staff write it."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or is_staff(request.user)


class CooperativeProfilePermission(BasePermission):
    """Cooperatives: every signed-in role reads; staff write; a manager may PATCH their own
    cooperative's order settings (the view says which fields)."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in SAFE_METHODS or is_staff(request.user):
            return True
        return is_manager(request.user) and request.method == "PATCH"

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS or is_staff(request.user):
            return True
        return obj.pk in managed_cooperative_ids(user=request.user)


class ReadAnyWriteCooperative(BasePermission):
    """Listings and lots: every signed-in role reads; staff and cooperative managers write,
    managers only for their own cooperatives (checked per object and on create)."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            return True
        return is_staff(request.user) or is_manager(request.user)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS or is_staff(request.user):
            return True
        return view.cooperative_id_of(obj) in managed_cooperative_ids(user=request.user)


class CooperativeStaffOnly(BasePermission):
    """Household personal data: only platform staff and cooperative managers, never buyers or
    partner systems."""

    def has_permission(self, request, view):
        return is_staff(request.user) or is_manager(request.user)
