"""Reads of cooperatives and households, scoped by suppliers.access to what the user may see."""

from django.db.models import QuerySet

from backend.pinyin import matches

from . import access
from .models import Cooperative, Household


def cooperative_list(*, user) -> QuerySet[Cooperative]:
    return access.cooperatives_visible(user=user, queryset=Cooperative.objects.all())


def household_list(*, user) -> QuerySet[Household]:
    return access.households_visible(
        user=user, queryset=Household.objects.select_related("cooperative")
    )


def household_choices() -> QuerySet[Household]:
    """Households a write may name (a lot's contributions). Not scoped: the access check on
    the listing (403) and lot_receive's rule that each is a member of the listing's
    cooperative (400) decide, in that order, with the more useful error."""
    return Household.objects.all()


def cooperative_choices() -> QuerySet[Cooperative]:
    """Cooperatives a write may name (a household's). Not scoped: suppliers.access refuses
    one the user does not manage with a 403 naming the field."""
    return Cooperative.objects.all()


def household_search(*, queryset: QuerySet[Household], text: str) -> QuerySet[Household]:
    """The households of ``queryset`` whose name, village or poverty registration number
    holds each word of ``text``, in Chinese or in pinyin, full or initials: "zhang", "zs" and
    "张" find 张三, "shitun" his village 石屯村.

    The pinyin is worked out here from the rows, not stored: a search runs over what one
    user may see (a cooperative's tens to few hundred households, every household only for
    staff), and names repeat, so backend.pinyin keeps each one's once per process. One
    query for the candidates; the answer is a queryset the caller can still order and
    page."""
    terms = text.replace(",", " ").lower().split()
    if not terms:
        return queryset
    rows = queryset.values_list("pk", "name", "village", "poverty_registration_no")
    found = [pk for pk, *texts in rows.iterator() if matches(terms, tuple(texts))]
    return queryset.filter(pk__in=found)
