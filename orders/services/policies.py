"""Placement policies: what order_place does with a line or a cooperative's part that cannot
be placed exactly as asked, and who has already approved an order above the threshold.

A buyer at the API is there to fix the request, so BuyerRequest refuses it; a standing
order's run has nobody to ask, so StandingRun places what it can and says what it left out.
The shared steps stay in placement.py; only these decisions differ.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from backend import formatting
from backend.formatting import message
from buyers.models import Membership
from products.models import Listing, quantity_text
from suppliers.models import Cooperative

from ..exceptions import BelowMinimumOrderValue


@dataclass
class LineRequest:
    listing_id: int
    quantity: Decimal


@dataclass
class Findings:
    """What checking the lines found: refusals, shortages, and (lenient policies) cuts."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    shortages: dict[str, list[str]] = field(default_factory=dict)
    available: dict[str, str] = field(default_factory=dict)
    adjusted: list[str] = field(default_factory=list)


@dataclass
class Part:
    """One cooperative's share of the order, priced."""

    cooperative: Cooperative
    listing_ids: list[int]
    subtotal: Decimal


def fmt(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def _largest_allowed(listing: Listing, wanted: Decimal) -> Decimal:
    """The largest quantity ≤ wanted and ≤ available that the listing's rules allow (0 if
    none): minimum order plus whole increments."""
    cap = min(wanted, listing.available_quantity)
    if cap < listing.min_order_quantity:
        return Decimal(0)
    steps = (cap - listing.min_order_quantity) // listing.order_increment
    return listing.min_order_quantity + steps * listing.order_increment


class BuyerRequest:
    """The placement policy for a buyer's own request (the API, a reorder): anything that
    cannot be placed exactly as asked refuses the whole order, and an approver placing an
    order above the threshold approves it by placing it."""

    def line(
        self,
        *,
        at: str,
        listing: Listing | None,
        line: LineRequest,
        too_soon: bool,
        found: Findings,
    ) -> Decimal:
        """The quantity to order of this line (0: none), noting what is wrong with it."""
        if listing is None:
            found.errors[f"{at}.listing"] = [_("This listing is not on sale.")]
            return Decimal(0)
        quantity, unit = line.quantity, listing.unit
        if quantity < listing.min_order_quantity:
            found.errors[f"{at}.quantity"] = [
                _("The minimum order is %(minimum)s.")
                % {"minimum": quantity_text(listing.min_order_quantity, unit)}
            ]
        elif (quantity - listing.min_order_quantity) % listing.order_increment:
            found.errors[f"{at}.quantity"] = [
                _("Order %(minimum)s plus steps of %(step)s.")
                % {
                    "minimum": quantity_text(listing.min_order_quantity, unit),
                    "step": quantity_text(listing.order_increment, unit),
                }
            ]
        elif quantity > listing.available_quantity:
            found.shortages[f"{at}.quantity"] = [
                _("Only %(available)s available.")
                % {"available": quantity_text(listing.available_quantity, unit)}
            ]
            found.available[str(listing.pk)] = fmt(listing.available_quantity)
        if too_soon:
            found.errors.setdefault("requested_delivery_date", []).append(
                _("Listing %(listing)s needs %(days)s days to prepare.")
                % {"listing": listing.pk, "days": listing.lead_time_days}
            )
        return quantity

    def parts_below_minimum(self, *, parts: list[Part], found: Findings) -> list[Part]:
        """Parts below their cooperative's minimum order value refuse the order."""
        if not parts:
            return []
        raise BelowMinimumOrderValue(
            _("Part of this order is below a cooperative's minimum order value."),
            fields={"lines": [below_minimum_text(part) for part in parts]},
            minimum_order_values={
                str(part.cooperative.pk): str(part.cooperative.min_order_value) for part in parts
            },
        )

    def approved_by(self, *, total: Decimal, membership: Membership, user: User) -> User | None:
        """Over the threshold: who approved it already (None: it waits for an approver)."""
        return user if membership.role == Membership.Role.APPROVER else None


class StandingRun(BuyerRequest):
    """The placement policy for a standing order's run: nobody is there to fix the request,
    so what cannot be placed is cut or left out and said so, rather than losing the whole
    week. Nobody approves it by being its creator: above the threshold it waits for an
    approver, unless an approver pre-approved it up to ``cap``."""

    def __init__(self, *, cap: Decimal | None = None, cap_set_by: User | None = None):
        self.cap, self.cap_set_by = cap, cap_set_by

    def line(self, *, at, listing, line, too_soon, found):
        if listing is None:
            found.adjusted.append(
                message(
                    gettext_lazy("listing %(listing)s: not on sale, left out"),
                    {"listing": line.listing_id},
                )
            )
            return Decimal(0)
        name = {"product": listing.product.name_zh, "listing": listing.pk}
        if too_soon:
            found.adjusted.append(
                message(
                    gettext_lazy(
                        "%(product)s (%(listing)s): needs %(days)s days to prepare, left out"
                    ),
                    {**name, "days": listing.lead_time_days},
                )
            )
            return Decimal(0)
        allowed = _largest_allowed(listing, line.quantity)
        if allowed != line.quantity:
            found.adjusted.append(
                message(
                    gettext_lazy("%(product)s (%(listing)s): %(allowed)s of %(wanted)s"),
                    {
                        **name,
                        "allowed": formatting.quantity(allowed),
                        "wanted": quantity_text(line.quantity, listing.unit),
                    },
                )
            )
        return allowed

    def parts_below_minimum(self, *, parts, found):
        """Only the parts below their minimum are dropped; the rest is still placed."""
        for part in parts:
            found.adjusted.append(
                formatting.join(" ", [below_minimum_text(part), gettext_lazy("Left out.")])
            )
        return parts

    def approved_by(self, *, total, membership, user):
        if self.cap is not None and self.cap_set_by is not None and total <= self.cap:
            return self.cap_set_by
        return None


def below_minimum_text(part: Part) -> str:
    """Lazy: a standing order's run e-mails it in each reader's language."""
    return message(
        gettext_lazy(
            "%(cooperative)s delivers orders from %(minimum)s; your part comes to %(subtotal)s."
        ),
        {
            "cooperative": part.cooperative.name_zh,
            "minimum": formatting.money(part.cooperative.min_order_value),
            "subtotal": formatting.money(part.subtotal),
        },
    )
