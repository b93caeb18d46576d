"""The one place that says how a fulfilment may move, and who may move it.

Actors: "buyer" (a member of the ordering organisation, or its partner system), "approver"
(a buyer member with the approver role), "cooperative" (a manager of the fulfilling
cooperative), "staff", and "system" (beat jobs: reservation expiry).
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from backend.errors import Conflict

from .models import FulfilmentStatus as S

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    S.PENDING_APPROVAL: {
        S.PLACED: frozenset({"approver", "staff"}),
        S.CANCELLED: frozenset({"buyer", "staff", "system"}),
    },
    S.PLACED: {
        S.CONFIRMED: frozenset({"cooperative", "staff"}),
        S.REJECTED: frozenset({"cooperative", "staff"}),
        S.CANCELLED: frozenset({"buyer", "staff", "system"}),
    },
    S.CONFIRMED: {
        S.PACKED: frozenset({"cooperative", "staff"}),
        S.CANCELLED: frozenset({"staff"}),
    },
    S.PACKED: {
        S.SHIPPED: frozenset({"cooperative", "staff"}),
        S.CANCELLED: frozenset({"staff"}),
    },
    S.SHIPPED: {S.DELIVERED: frozenset({"buyer", "staff"})},
    S.DELIVERED: {S.COMPLETED: frozenset({"buyer", "staff"})},
    S.COMPLETED: {},
    S.REJECTED: {},
    S.CANCELLED: {},
}

# How far along each status is; an order is as far along as its least advanced live part.
PROGRESS = [
    S.PENDING_APPROVAL,
    S.PLACED,
    S.CONFIRMED,
    S.PACKED,
    S.SHIPPED,
    S.DELIVERED,
    S.COMPLETED,
]
ENDED = frozenset({S.REJECTED, S.CANCELLED})
# Stock still reserved for the part (not yet shipped, not ended).
HOLDS_RESERVATION = frozenset({S.PENDING_APPROVAL, S.PLACED, S.CONFIRMED, S.PACKED})


class IllegalTransition(Conflict):
    code = "illegal_transition"


def allowed(from_status: str, actors: set[str]) -> list[str]:
    """The statuses these actors may move a fulfilment to from ``from_status``."""
    return [to for to, who in TRANSITIONS[from_status].items() if who & actors]


def check(from_status: str, to_status: str, actors: set[str]) -> None:
    """Refuse a move that is not allowed, saying which moves are."""
    who = TRANSITIONS[from_status].get(to_status)
    if who is not None and who & actors:
        return
    possible = allowed(from_status, actors)
    params = {"status": S(from_status).label, "to": S(to_status).label}
    if possible:
        message = _(
            "A fulfilment that is %(status)s cannot become %(to)s; you can move it to: %(allowed)s."
        ) % {**params, "allowed": status_list(possible)}
    else:
        message = (
            _("A fulfilment that is %(status)s cannot become %(to)s; no moves are left to you.")
            % params
        )
    raise IllegalTransition(
        message,
        fields={"status": [_("Not allowed from %(status)s.") % params]},
        current_status=from_status,
        allowed_transitions=possible,
    )


def status_list(statuses: list[str]) -> str:
    """Statuses as a person reads them ("confirmed, rejected"); the codes stay in JSON."""
    return pgettext("list separator", ", ").join(str(S(status).label) for status in statuses)


def order_status(fulfilment_statuses: list[str]) -> str:
    live = [status for status in fulfilment_statuses if status not in ENDED]
    if live:
        return min(live, key=PROGRESS.index)
    return S.CANCELLED if S.CANCELLED in fulfilment_statuses else S.REJECTED
