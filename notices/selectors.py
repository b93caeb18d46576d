"""Reads of notices, scoped by notices.access."""

from django.db.models import QuerySet

from accounts.models import User

from . import access
from .models import Notice


def inbox(*, user: User) -> QuerySet[Notice]:
    return access.inbox_visible(user=user, queryset=Notice.objects.all()).order_by("-id")


def unread_count(*, user: User) -> int:
    return inbox(user=user).filter(read_at__isnull=True).count()


def outbox(*, user: User) -> QuerySet[Notice]:
    return access.outbox_visible(user=user, queryset=Notice.objects.all()).order_by("-id")
