"""Who may see or do what with notices: everyone signed in reads and marks their own inbox;
staff read the whole outbox (the delivery log) and replay failed notices."""

from django.db.models import QuerySet

from accounts.access import SignedInPermission, is_signed_in, is_staff
from accounts.models import User

from . import catalog


def inbox_visible(*, user: User, queryset: QuerySet) -> QuerySet:
    """A user's own inbox notices, never another's (staff included)."""
    if not is_signed_in(user):
        return queryset.none()
    return queryset.filter(user=user, channel=catalog.INBOX)


def outbox_visible(*, user: User, queryset: QuerySet) -> QuerySet:
    return queryset if is_staff(user) else queryset.none()


class InboxPermission(SignedInPermission):
    """Every signed-in account has an inbox (a partner system's is empty: it hears by webhook)."""

    def allows(self, request, view):
        return True


class OutboxPermission(SignedInPermission):
    def allows(self, request, view):
        return is_staff(request.user)
