"""Who is in each recipient group of catalog.TABLE, for one event. People are ``user:<id>``;
the partner systems group is answered by a resolver another app registers (the partners
app: ``webhook:<endpoint id>``). Until one is registered that group is nobody, not an error.

Every group of every event in a batch is answered by ONE SQL statement (a UNION ALL of one
SELECT per group): the outbox is on the hot paths (placing an order, each fulfilment move),
and issue 8 counts their queries."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.db.models import CharField, F, IntegerField, QuerySet, Value

from accounts.models import User
from buyers.models import Membership
from suppliers.models import Cooperative

from . import catalog


class GroupResolver(Protocol):
    """What another app registers for a group only it knows (partners: partner_systems)."""

    key_prefix: str  # recipient keys are prefix + id, e.g. "webhook:12"

    def query(self, scopes: set[int]) -> QuerySet:
        """One SELECT of the scopes' (organisation ids') recipients, annotated ``r_scope``
        (int), ``r_id`` (int) and ``r_extra`` (text: a JSON array of the event types each
        takes); the outbox unites it with the people's SELECTs. Its SQL is kept per number of
        scopes (union_sql): a query that depends on anything but the scopes (the time) is
        noticed there and compiled for every batch."""


# A plain callable ``(event_type, event) -> keys`` still works (one query per event).
Resolver = GroupResolver | Callable[[str, object], list[str]]
_resolvers: dict[str, Resolver] = {}


def register_resolver(group: str, resolver: Resolver) -> Resolver | None:
    """Register (or replace, answering the one replaced) the group's resolver."""
    if group not in catalog.GROUPS:
        raise ValueError(f"not a recipient group: {group!r}")
    replaced = _resolvers.get(group)
    _resolvers[group] = resolver
    _compiled.clear()
    return replaced


def unregister_resolver(group: str) -> Resolver | None:
    _compiled.clear()
    return _resolvers.pop(group, None)


@dataclass(frozen=True)
class Recipient:
    key: str
    user: User | None = None


COLUMNS = ("r_group", "r_scope", "r_id", "r_language", "r_email", "r_extra")


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


class Resolution:
    """Resolves the groups of the events of one batch in one query. A recipient's user is a
    User with only pk, language and e-mail loaded: what the notice row and its text need (the
    send task reads the user afresh)."""

    def __init__(self, events=()):
        self._people: dict[tuple, list[Recipient]] = {}
        self._systems: dict[int, list[tuple[int, str]]] = {}
        scopes: dict[str, set] = {}
        for event in events:
            for group in event.groups():
                scope = scope_of(group, event)
                if scope is not None:
                    scopes.setdefault(group, set()).add(scope)
        for group, ids in scopes.items():
            for scope in ids:
                self._people[(group, scope)] = []
        union = union_query(scopes)
        if union is None:
            return
        for group, scope, pk, language, email, extra in sorted(union, key=lambda r: r[2]):
            if group == catalog.PARTNER_SYSTEMS:
                self._systems.setdefault(scope, []).append((pk, extra))
            else:
                user = User(pk=pk, language=language, email=email)
                self._people[(group, scope)].append(Recipient(f"user:{pk}", user))

    def __call__(self, group: str, event) -> list[Recipient]:
        if group == catalog.PARTNER_SYSTEMS:
            resolver = _resolvers.get(group)
            if resolver is None:
                return []
            if hasattr(resolver, "query"):
                rows = self._systems.get(event.organisation_id, [])
                keys = [
                    f"{resolver.key_prefix}{pk}"
                    for pk, extra in rows
                    if event.type in subscriptions(extra)
                ]
            else:
                keys = resolver(event.type, event)
            return [Recipient(key) for key in keys]
        scope = scope_of(group, event)
        if scope is None:
            return []
        if (group, scope) not in self._people:  # an event outside the batch: ask for it alone
            self._people[(group, scope)] = Resolution([_Alone(group, scope)])._people.get(
                (group, scope), []
            )
        return self._people[(group, scope)]


@dataclass
class _Alone:
    """A stand-in event of one group and scope (for a group asked outside its batch)."""

    group: str
    scope: int

    @property
    def organisation_id(self):
        return self.scope

    @property
    def cooperative_id(self):
        return self.scope

    def groups(self):
        return [self.group]


def union_query(scopes: dict[str, set]) -> QuerySet | None:
    """ONE statement: every recipient of every group in its scopes, as rows of COLUMNS (a
    UNION ALL of one SELECT per group). The partner systems' group takes part only through a
    registered GroupResolver."""
    scopes = dict(scopes)
    system_scopes = scopes.pop(catalog.PARTNER_SYSTEMS, set())
    selects = [_people_query(group, ids) for group, ids in scopes.items()]
    resolver = _resolvers.get(catalog.PARTNER_SYSTEMS)
    if system_scopes and resolver is not None and hasattr(resolver, "query"):
        selects.append(
            resolver.query(system_scopes)
            .annotate(
                r_group=_text(catalog.PARTNER_SYSTEMS),
                r_language=_text(""),
                r_email=_text(""),
            )
            .values_list(*COLUMNS)
        )
    if not selects:
        return None
    return selects[0].union(*selects[1:], all=True) if len(selects) > 1 else selects[0]


# union_sql's statements, by the shape of a batch: ((group, number of scopes), ...) → the SQL,
# its parameters, and which parameter holds which scope ((group's place, scope's place)).
_compiled: dict[tuple, object] = {}
_STAND_IN = -(10**15)  # no row's id: scopes while compiling, told apart from other parameters


def _with_stand_ins(shape: tuple, first: int) -> tuple[str, list] | None:
    stand_ins = {}
    for place, (group, count) in enumerate(shape):
        stand_ins[group] = {first - place * 1000 - n for n in range(count)}
    union = union_query(stand_ins)
    return None if union is None else union.query.sql_with_params()


def _compile(shape: tuple) -> tuple[str, list, dict[int, tuple[int, int]]] | None:
    """Compile the shape twice with different stand-in scopes: the statement must be the same
    text, and the parameters that differ must be stand-ins, each in the same place in both;
    those are where a batch's scopes go. Anything else (a resolver's query that transforms
    its scopes) is not kept, and that shape is compiled for every batch."""
    first, second = _with_stand_ins(shape, _STAND_IN), _with_stand_ins(shape, 2 * _STAND_IN)
    if first is None or second is None:
        return None
    (sql, params), (sql_again, params_again) = first, second
    if sql != sql_again or len(params) != len(params_again):
        raise _NotKept
    slots = {}
    for index, (one, other) in enumerate(zip(params, params_again, strict=True)):
        if one == other:
            continue
        if not (isinstance(one, int) and isinstance(other, int)):
            raise _NotKept
        place, n = divmod(_STAND_IN - one, 1000)
        if (place, n) != divmod(2 * _STAND_IN - other, 1000):
            raise _NotKept
        if not (0 <= place < len(shape) and n < shape[place][1]):
            raise _NotKept
        slots[index] = (place, n)
    return sql, list(params), slots


class _NotKept(Exception):
    pass


_EACH_TIME = object()  # a shape whose statement is compiled for every batch


def union_sql(scopes: dict[str, set]) -> tuple[str, list] | None:
    """union_query's SQL and parameters, without building and compiling its querysets for
    every batch: on the hot path of every order and move, that cost a placement about a sixth
    of its CPU (issue 8). The statement is compiled once per shape of batch (its groups and
    how many scopes each has), and each batch's scopes are put in their parameters."""
    shape = tuple((group, len(ids)) for group, ids in scopes.items())
    if shape not in _compiled and all(count < 1000 for _group, count in shape):
        try:
            _compiled[shape] = _compile(shape)
        except _NotKept:
            _compiled[shape] = _EACH_TIME
    compiled = _compiled.get(shape, _EACH_TIME)
    if compiled is _EACH_TIME:  # or more scopes than the stand-ins' numbering
        union = union_query(scopes)
        return None if union is None else union.query.sql_with_params()
    if compiled is None:
        return None
    sql, params, slots = compiled
    ordered = [sorted(ids) for ids in scopes.values()]
    params = list(params)
    for index, (place, n) in slots.items():
        params[index] = ordered[place][n]
    return sql, params


def batched(group: str) -> bool:
    """Whether the group is answered by the union (not by a per-event callable)."""
    resolver = _resolvers.get(group)
    return group != catalog.PARTNER_SYSTEMS or resolver is None or hasattr(resolver, "query")


def key_prefix(group: str) -> str:
    if group == catalog.PARTNER_SYSTEMS:
        return getattr(_resolvers.get(group), "key_prefix", "")
    return "user:"


def scope_of(group: str, event):
    """What the group is of: the organisation, the cooperative, or all (staff: 0)."""
    if group in (catalog.BUYER_MEMBERS, catalog.BUYER_APPROVERS, catalog.PARTNER_SYSTEMS):
        return event.organisation_id
    if group == catalog.COOPERATIVE_MANAGERS:
        return event.cooperative_id
    if group == catalog.STAFF:
        return 0
    return None


def _people_query(group: str, scopes: set) -> QuerySet:
    """One SELECT of (group, scope, user id, language, e-mail, "") for every active person of
    the group in these scopes."""
    if group == catalog.STAFF:
        rows = User.objects.filter(role=User.Role.STAFF, is_active=True).annotate(
            r_scope=Value(0, output_field=IntegerField()),
            r_id=F("pk"),
            r_language=F("language"),
            r_email=F("email"),
        )
    elif group == catalog.COOPERATIVE_MANAGERS:
        rows = Cooperative.managers.through.objects.filter(
            cooperative_id__in=scopes,
            user__is_active=True,
            user__role=User.Role.COOPERATIVE_MANAGER,
        ).annotate(
            r_scope=F("cooperative_id"),
            r_id=F("user_id"),
            r_language=F("user__language"),
            r_email=F("user__email"),
        )
    else:
        # Buyer members are people; a partner system hears through its own endpoints.
        rows = Membership.objects.filter(organisation_id__in=scopes, user__is_active=True).exclude(
            user__role=User.Role.PARTNER
        )
        if group == catalog.BUYER_APPROVERS:
            rows = rows.filter(role=Membership.Role.APPROVER)
        rows = rows.annotate(
            r_scope=F("organisation_id"),
            r_id=F("user_id"),
            r_language=F("user__language"),
            r_email=F("user__email"),
        )
    return rows.annotate(r_group=_text(group), r_extra=_text("[]")).order_by().values_list(*COLUMNS)


def subscriptions(extra: str) -> list[str]:
    """An endpoint's event types, as its resolver wrote them in ``r_extra`` (JSON text)."""
    try:
        return json.loads(extra or "[]")
    except ValueError:
        return []
