"""Who is in each recipient group of catalog.TABLE, for one event. People are ``user:<id>``;
the partner systems group is answered by a resolver another app registers (the partners
app: ``webhook:<endpoint id>``). Until one is registered that group is nobody, not an error."""

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import User
from buyers.models import Membership
from suppliers.models import Cooperative

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
    """Resolves groups for the events of one batch, asking the database once per group for
    every organisation or cooperative of the batch (an order of three cooperatives costs one
    query for their managers, not three)."""

    def __init__(self, events=()):
        self._memo: dict[tuple, list[Recipient]] = {}
        scopes: dict[str, set] = {}
        for event in events:
            for group in catalog.TABLE[event.type]:
                scope = _scope(group, event)
                if scope is not None:
                    scopes.setdefault(group, set()).add(scope)
        for group, ids in scopes.items():
            for scope in ids:
                self._memo[(group, scope)] = []
            for scope, user in _people_of(group, ids):
                self._memo[(group, scope)].append(Recipient(f"user:{user.pk}", user))

    def __call__(self, group: str, event) -> list[Recipient]:
        if group == catalog.PARTNER_SYSTEMS:
            resolver = _resolvers.get(group)
            keys = resolver(event.type, event) if resolver else []
            return [Recipient(key) for key in keys]
        scope = _scope(group, event)
        if scope is None:
            return []
        if (group, scope) not in self._memo:
            for _same, user in _people_of(group, {scope}):
                self._memo.setdefault((group, scope), []).append(Recipient(f"user:{user.pk}", user))
        return self._memo.get((group, scope), [])


def _scope(group: str, event):
    """What the group is of: the organisation, the cooperative, or all (staff: 0)."""
    if group in (catalog.BUYER_MEMBERS, catalog.BUYER_APPROVERS):
        return event.organisation_id
    if group == catalog.COOPERATIVE_MANAGERS:
        return event.cooperative_id
    if group == catalog.STAFF:
        return 0
    return None


def _people_of(group: str, scopes: set) -> list[tuple[int, User]]:
    """(scope, user) for every active person of the group in these scopes, in one query."""
    if group == catalog.STAFF:
        staff = User.objects.filter(role=User.Role.STAFF, is_active=True).order_by("pk")
        return [(0, user) for user in staff]
    if group == catalog.COOPERATIVE_MANAGERS:
        links = (
            Cooperative.managers.through.objects.filter(
                cooperative_id__in=scopes,
                user__is_active=True,
                user__role=User.Role.COOPERATIVE_MANAGER,
            )
            .select_related("user")
            .order_by("user_id")
        )
        return [(link.cooperative_id, link.user) for link in links]
    # Buyer members are people; a partner system hears through its own endpoints.
    memberships = Membership.objects.filter(
        organisation_id__in=scopes, user__is_active=True
    ).exclude(user__role=User.Role.PARTNER)
    if group == catalog.BUYER_APPROVERS:
        memberships = memberships.filter(role=Membership.Role.APPROVER)
    return [
        (m.organisation_id, m.user) for m in memberships.select_related("user").order_by("user_id")
    ]
