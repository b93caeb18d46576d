"""A fulfilment and its actions: confirm (in full or short), reject, pack, ship, print. Each
action calls the service the API's view calls, once per form (an Idempotency-Key)."""

import datetime
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backend.errors import DomainError
from logistics import selectors as logistics_selectors
from logistics import services as logistics_services
from orders.models import FulfilmentStatus as S
from orders.services import transitions

from .. import selectors
from ..forms import KEY_FIELD, ConfirmShortForm, PackPicksForm, RejectForm, ShipmentForm
from ..pages import manager_page, not_found, put_back, render_page, run_once


def _default_window(part) -> tuple[datetime.datetime, datetime.datetime]:
    """A morning on the day the store asked for (or tomorrow): a start for the form only."""
    day = part.order.requested_delivery_date or timezone.localdate() + datetime.timedelta(days=1)
    day = max(day, timezone.localdate() + datetime.timedelta(days=1))
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))
    return start, start + datetime.timedelta(hours=4)


def _forms(part, data=None, action: str = "", choices=()) -> dict:
    """The forms of the part's actions, bound to ``data`` for the one being sent."""

    def bound(name):
        return data if action == name else None

    lines = list(part.lines.all())
    start, end = _default_window(part)
    shipment_initial = {
        "mode": "carrier",
        "window_start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
        "window_end": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
    }
    return {
        "confirm_form": ConfirmShortForm(bound("confirm_short"), lines=lines),
        "reject_form": RejectForm(bound("reject")),
        "shipment_form": ShipmentForm(bound("ship"), initial=shipment_initial),
        # The generic form for the moves that take no input (confirm in full, pack).
        "action_form": RejectForm(bound("confirm") or bound("pack")),
        "pick_form": PackPicksForm(bound("pack_picks"), choices=choices),
    }


# Each action and the form its refusals are shown on.
FORM_OF = {
    "confirm": "action_form",
    "confirm_short": "confirm_form",
    "reject": "reject_form",
    "pack": "action_form",
    "pack_picks": "pick_form",
    "ship": "shipment_form",
}
ACTIONS = set(FORM_OF)
# The actions whose forms the page shows in each status. A refusal of another one (the part
# moved on meanwhile: the buyer cancelled before a confirm sent from offline arrived) is
# shown at the top of the page, since its form is not on it.
OFFERED = {
    S.PLACED: {"confirm", "confirm_short", "reject"},
    S.CONFIRMED: {"pack", "pack_picks"},
    S.PACKED: {"ship"},
}
DONE = {
    "confirm": lambda: _("Confirmed in full."),
    "confirm_short": lambda: _("Confirmed with the quantities you gave."),
    "reject": lambda: _("Rejected."),
    "pack": lambda: _("Packed from the pick list."),
    "pack_picks": lambda: _("Packed from the lots you chose."),
    "ship": lambda: _("Shipped."),
}


def _work(request, part, action: str, forms: dict):
    """The service call an action makes, or None when its form is not valid."""
    user = request.user
    if action == "confirm":
        return lambda: transitions.fulfilment_confirm(fulfilment=part, user=user)
    if action == "pack":
        return lambda: transitions.fulfilment_pack(fulfilment=part, user=user)
    if action == "confirm_short":
        form = forms["confirm_form"]
        if not form.is_valid():
            return None
        return lambda: transitions.fulfilment_confirm(
            fulfilment=part, user=user, quantities=form.quantities()
        )
    if action == "pack_picks":
        form = forms["pick_form"]
        if not form.is_valid():
            return None
        return lambda: transitions.fulfilment_pack(fulfilment=part, user=user, picks=form.picks())
    if action == "reject":
        form = forms["reject_form"]
        if not form.is_valid():
            return None
        return lambda: transitions.fulfilment_reject(
            fulfilment=part, user=user, reason=form.cleaned_data["reason"]
        )
    form = forms["shipment_form"]
    if hasattr(part, "shipment"):  # recorded already (on the API, or by the demo): ship it
        return lambda: transitions.fulfilment_ship(fulfilment=part, user=user)
    if not form.is_valid():
        return None

    @transaction.atomic
    def record_and_ship():
        logistics_services.shipment_record(user=user, fulfilment=part, **form.cleaned_data)
        transitions.fulfilment_ship(fulfilment=part, user=user)

    return record_and_ship


def _put_back_picks(form: PackPicksForm, error: Exception) -> None:
    """The pack service's refusal of a line's picks names the line (``params["line"]``):
    shown beside that line; anything else as put_back shows it."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for item in error.error_dict.pop("picks", []):
            line_id = (item.params or {}).get("line")
            for message in item.messages:
                if line_id in form.line_ids:
                    form.add_line_error(line_id, message)
                else:
                    form.add_error(None, message)
        if not error.error_dict:
            return
    put_back(form, error)


@manager_page
@require_http_methods(["GET", "POST"])
def fulfilment(request, fulfilment_id: int):
    part = selectors.fulfilment(user=request.user, fulfilment_id=fulfilment_id)
    if part is None:  # another cooperative's, or none: the same answer
        return not_found(request)
    action = request.POST.get("action", "")
    if request.method == "POST" and action not in ACTIONS:
        action = ""
    picks = selectors.pick_list(fulfilment=part) if part.status in (S.CONFIRMED, S.PACKED) else []
    choices = (
        selectors.lots_to_choose(user=request.user, fulfilment=part, picks=picks)
        if part.status == S.CONFIRMED
        else []
    )
    forms = _forms(part, request.POST if action else None, action, choices)
    status = 200
    if action:
        form = forms[FORM_OF[action]]
        work = _work(request, part, action, forms)
        if work is not None:
            try:
                replayed = run_once(request, request.POST.get(KEY_FIELD, ""), work)
            except (DomainError, ValidationError) as error:
                if action == "pack_picks":
                    _put_back_picks(form, error)
                else:
                    put_back(form, error)
            else:
                messages.success(request, _("Already done.") if replayed else DONE[action]())
                return redirect("mobile:fulfilment", fulfilment_id=part.pk)
        status = 400
    context = {
        "part": part,
        "lines": list(part.lines.all()),
        "picks": picks,
        "shipment": getattr(part, "shipment", None),
        "key": uuid.uuid4().hex,  # a new Idempotency-Key per rendered form
        "failed": action if status == 400 else "",
        "refusal": [m for msgs in forms[FORM_OF[action]].errors.values() for m in msgs]
        if status == 400 and action not in OFFERED.get(part.status, ())
        else [],
        **forms,
    }
    return render_page(request, "mobile/fulfilment.html", context, status=status)


@manager_page
def delivery_note(request, fulfilment_id: int):
    """The delivery note logistics prints, for a part the manager sees."""
    note = logistics_selectors.delivery_note(user=request.user, fulfilment_id=fulfilment_id)
    if note is None:
        return not_found(request)
    return render(
        request,
        "logistics/delivery_note.html",
        {**note, "lang": translation.get_language()},
    )
