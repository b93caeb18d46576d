"""Who is in each recipient group of catalog.TABLE, for one event. People are ``user:<id>``;
the partner systems group is answered by a resolver another app registers (the partners
app: ``webhook:<endpoint id>``). Until one is registered that group is nobody, not an error."""

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import User
from buyers.models import Membership

from . import catalog

Resolver = Callable[[str, object], list[str]]
_resolvers: dict[str, Resolver] = {}


def register_resolver(group: str, resolver: Resolver) -> None:
    """``resolver(event_type, event) -> ["webhook:12", ...]`` answers the group's recipients."""
    if group not in catalog.GROUPS:
        raise ValueError(f"not a recipient group: {group!r}")
    _resolvers[group] = resolver


def unregister_resolver(group: str) -> None:
    _resolvers.pop(group, None)


@dataclass(frozen=True)
class Recipient:
    key: str
    user: User | None = None


class Resolution:
    """Resolves groups for the events of one batch, asking the database once per group and
    organisation or cooperative (an order's parts share its buyer members)."""

    def __init__(self):
        self._memo: dict[tuple, list[Recipient]] = {}

    def __call__(self, group: str, event) -> list[Recipient]:
        if group == catalog.PARTNER_SYSTEMS:
            resolver = _resolvers.get(group)
            keys = resolver(event.type, event) if resolver else []
            return [Recipient(key) for key in keys]
        if group in (catalog.BUYER_MEMBERS, catalog.BUYER_APPROVERS):
            scope = event.organisation_id
        elif group == catalog.COOPERATIVE_MANAGERS:
            scope = event.cooperative_id
        else:
            scope = None
        if group != catalog.STAFF and scope is None:
            return []
        memo_key = (group, scope)
        if memo_key not in self._memo:
            self._memo[memo_key] = [Recipient(f"user:{u.pk}", u) for u in _people(group, scope)]
        return self._memo[memo_key]


def _people(group: str, scope: int | None):
    if group == catalog.STAFF:
        return User.objects.filter(role=User.Role.STAFF, is_active=True).order_by("pk")
    if group == catalog.COOPERATIVE_MANAGERS:
        return User.objects.filter(
            managed_cooperatives=scope, is_active=True, role=User.Role.COOPERATIVE_MANAGER
        ).order_by("pk")
    # Buyer members are people; a partner system hears through its own endpoints.
    memberships = Membership.objects.filter(organisation_id=scope, user__is_active=True).exclude(
        user__role=User.Role.PARTNER
    )
    if group == catalog.BUYER_APPROVERS:
        memberships = memberships.filter(role=Membership.Role.APPROVER)
    return [m.user for m in memberships.select_related("user").order_by("user_id")]
