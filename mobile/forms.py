"""The page's forms read and type what a person typed; every rule about it is the services'
(their errors are put back on these forms, next to the field they name)."""

import math
import re
from decimal import Decimal
from types import SimpleNamespace

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.throttles import login_attempt_wait
from logistics.models import Shipment
from products.models import Listing, unit_name
from products.serializers import MAX_QUANTITY
from suppliers.access import managed_cooperative_ids

# The hidden field that carries a form's Idempotency-Key (one per rendered form).
KEY_FIELD = "idempotency_key"

# A lot's and a household's quantity: the API's bounds (products.serializers).
LOT_QUANTITY = {
    "min_value": Decimal("0.001"),
    "max_value": MAX_QUANTITY,
    "max_digits": 12,
    "decimal_places": 3,
    "error_messages": {"min_value": _("Enter a quantity above zero.")},
    "widget": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
}


class LoginForm(AuthenticationForm):
    """Phone and password, in any spelling the API accepts (accounts.backends.PhoneBackend),
    under the API's sign-in limits (accounts.throttles, which read the phone from
    ``username``)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That phone and password do not match an account."),
        "throttled": _("Too many sign-in attempts. Try again in %(seconds)d seconds."),
        "not_a_manager": _(
            "This page is for cooperative managers. Buyers and platform staff use the API or "
            "the admin."
        ),
    }

    remember = forms.BooleanField(label=_("Stay signed in"), required=False)

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.label = _("Phone")
        username.max_length = 32  # room for "+86 138 0000 0002"; the backend normalises it
        username.widget.attrs.update(
            {"maxlength": 32, "inputmode": "tel", "autocomplete": "tel", "autofocus": True}
        )

    def clean(self):
        wait = login_attempt_wait(self.request)
        if wait is not None:
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"seconds": math.ceil(wait)},
            )
        return super().clean()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not managed_cooperative_ids(user=user):
            raise ValidationError(self.error_messages["not_a_manager"], code="not_a_manager")


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=500, required=False)


class ConfirmShortForm(forms.Form):
    """One quantity per line, named ``line-<id>``, starting at the ordered quantity."""

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line-{line.pk}"] = forms.DecimalField(
                label=line.listing.product.name_zh,
                initial=line.quantity.normalize(),
                max_digits=12,
                decimal_places=3,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )

    def quantities(self) -> dict:
        return {line.pk: self.cleaned_data[f"line-{line.pk}"] for line in self.lines}

    def line_fields(self):
        return [(line, self[f"line-{line.pk}"]) for line in self.lines]


class ShipmentForm(forms.Form):
    """The shipment details logistics records (logistics.services.shipment_record)."""

    mode = forms.ChoiceField(label=_("How it travels"), choices=Shipment.Mode.choices)
    carrier_name = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    vehicle_plate = forms.CharField(label=_("Vehicle plate"), max_length=20, required=False)
    driver_name = forms.CharField(label=_("Driver's name"), max_length=50, required=False)
    driver_phone = forms.CharField(label=_("Driver's phone"), max_length=32, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=64, required=False)
    package_count = forms.IntegerField(label=_("Packages"), min_value=1, max_value=100000)
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"),
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    window_start = forms.DateTimeField(
        label=_("Arrives from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    window_end = forms.DateTimeField(
        label=_("Arrives by"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class ListingStatusForm(forms.Form):
    """Pause a listing, or put it (back) on sale: the status products.services.listing_update
    is asked for, as the API's PATCH with ``status``; the service says whether it may be."""

    STATUS_OF = {"pause": Listing.Status.PAUSED, "resume": Listing.Status.ACTIVE}

    # Sent by the button pressed (name="action").
    action = forms.ChoiceField(choices=[("pause", _("Pause")), ("resume", _("Put on sale"))])

    def status(self) -> str:
        return self.STATUS_OF[self.cleaned_data["action"]]


class PackPicksForm(forms.Form):
    """Packing from lots the manager chooses: a quantity per line and lot, named
    ``pick-<line id>-<lot id>``, starting at the proposed pick list. A quantity sent for a lot
    the page did not offer (taken meanwhile, or another listing's) is passed on as typed: the
    pack service decides, and its refusal is shown beside the line (``line_errors``)."""

    PICK = re.compile(r"^pick-(\d{1,18})-(\d{1,18})$")

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = list(choices)
        self.line_ids = [choice["line"].pk for choice in self.choices]
        self.line_errors: dict[int, list[str]] = {}
        named = [f"pick-{c['line'].pk}-{lot['lot'].pk}" for c in self.choices for lot in c["lots"]]
        named += [name for name in (self.data or {}) if self.PICK.match(name) and name not in named]
        for name in named:
            self.fields[name] = forms.DecimalField(
                required=False,
                max_digits=12,
                decimal_places=3,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
        for choice in self.choices:
            for lot in choice["lots"]:
                if lot["proposed"] is not None:  # "30", not "3E+1" nor "30.000"
                    name = f"pick-{choice['line'].pk}-{lot['lot'].pk}"
                    self.initial[name] = f"{lot['proposed'].normalize():f}"

    def picks(self) -> dict[int, list[tuple[int, Decimal]]]:
        """Every offered line with the lots given a quantity (none: the service says the
        picks must add up), and any other line named."""
        picks: dict[int, list[tuple[int, Decimal]]] = {line_id: [] for line_id in self.line_ids}
        for name, quantity in self.cleaned_data.items():
            if quantity is None or quantity == 0:
                continue
            line_id, lot_id = map(int, self.PICK.match(name).groups())
            picks.setdefault(line_id, []).append((lot_id, quantity))
        return picks

    def add_line_error(self, line_id: int, message: str) -> None:
        self.line_errors.setdefault(line_id, []).append(message)

    def rows(self):
        """Each line with its errors, and each lot offered with its quantity field."""
        for choice in self.choices:
            line = choice["line"]
            lots = [(lot, self[f"pick-{line.pk}-{lot['lot'].pk}"]) for lot in choice["lots"]]
            yield line, self.line_errors.get(line.pk, []), lots


# --- Receive a lot ------------------------------------------------------------------------------
class LotReceiveForm(forms.Form):
    """A lot as products.services.lot_receive takes it, and one row per household: the
    hidden ``household`` and the typed ``share``, repeated in the same order. Whether the
    shares add up, the date is past, the code new and each household a member is the
    service's to say; this form only reads numbers and dates."""

    listing = forms.ModelChoiceField(
        label=_("Listing"), queryset=Listing.objects.none(), empty_label=_("Choose a listing")
    )
    code = forms.CharField(label=_("Lot code"), max_length=40)
    harvest_date = forms.DateField(
        label=_("Harvest date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    quantity = forms.DecimalField(label=_("Quantity"), **LOT_QUANTITY)
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)
    # Carries the refusals about the rows as a whole (none, twice, not adding up).
    contributions = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, data=None, *, listings, own_listings, households, shown):
        """``listings``: what the listing field accepts (the API's lookup, so another
        cooperative's is refused as the API refuses it); ``own_listings``: what it offers.
        ``households``: id → Household for the rows' ids (the API's lookup too), ``shown``:
        the ids whose name the manager may see."""
        super().__init__(data)
        field = self.fields["listing"]
        field.queryset = listings
        field.widget.choices = [("", field.empty_label)] + [
            (listing.pk, listing_label(listing)) for listing in own_listings
        ]
        ids = data.getlist("household") if data is not None else []
        shares = data.getlist("share") if data is not None else []
        self.rows = []
        for index, raw in enumerate(ids):
            household_id = row_id(raw)
            household = households.get(household_id)
            self.rows.append(
                SimpleNamespace(
                    household_id=household_id if household is not None else raw,
                    household=household,
                    shown=household_id in shown,
                    share=shares[index] if index < len(shares) else "",
                    errors=ErrorList(),
                )
            )

    def lot_fields(self):
        return [self[name] for name in ("listing", "code", "harvest_date", "quantity", "notes")]

    def clean_contributions(self) -> list[dict]:
        contributions = []
        share_field = forms.DecimalField(**LOT_QUANTITY)
        for row in self.rows:
            if row.household is None:
                row.errors.append(_("Choose households from the search."))
                continue
            try:
                quantity = share_field.clean(row.share)
            except ValidationError as error:
                row.errors.extend(error.messages)
                continue
            contributions.append({"household": row.household, "quantity": quantity})
        if any(row.errors for row in self.rows):
            raise ValidationError(_("Check the households' quantities below."))
        return contributions


def row_id(raw: str) -> int | None:
    """A row's household id as sent, or None when it is not one."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def listing_label(listing) -> str:
    """ "土蜂蜜 · 一级 · 公斤", and the status when buyers cannot see it (a draft, paused)."""
    product = listing.product
    name = product.name_en if product.name_en and not get_language().startswith("zh") else ""
    label = " · ".join(
        [name or product.name_zh, listing.get_grade_display(), str(unit_name(listing.unit))]
    )
    if listing.status not in Listing.LIVE_STATUSES:
        label = f"{label} ({listing.get_status_display()})"
    return label
