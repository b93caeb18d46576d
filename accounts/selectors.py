"""Reads of accounts."""

from django.db.models import QuerySet

from .models import User


def cooperative_manager_list() -> QuerySet[User]:
    """Accounts that may be named a cooperative's manager (only staff name them: the
    cooperative permission refuses everyone else before this is asked)."""
    return User.objects.filter(role=User.Role.COOPERATIVE_MANAGER)
