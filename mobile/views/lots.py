"""Receive a lot: a listing, the lot's code, harvest date and quantity, and each household's
share, the households found by name or village in Chinese or pinyin. It calls
products.services.lot_receive, the API's lot create, once per form (an Idempotency-Key).

Without JavaScript every step is this one form: searching, adding and removing a household
send it (nothing is saved) and it comes back with what was typed. With htmx the search
answers as the manager types (``hits``, a GET of ``q``) and a household's row is added in
place (``row``)."""

import re
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from backend.errors import DomainError, Forbidden
from backend.idempotency import KEY_PATTERN
from products import access as products_access
from products import services as products_services

from .. import selectors
from ..forms import KEY_FIELD, LotReceiveForm, row_id
from ..pages import manager_page, not_found, put_back, render_page, run_once


def _form(request, data) -> LotReceiveForm:
    ids = [row_id(raw) for raw in data.getlist("household")] if data is not None else []
    households, shown = selectors.lot_households(
        user=request.user, ids=[pk for pk in ids if pk is not None]
    )
    return LotReceiveForm(
        data,
        listings=selectors.listing_choices(user=request.user),
        own_listings=selectors.own_listings(user=request.user),
        households=households,
        shown=shown,
    )


def _steps(data) -> None:
    """Adding or removing a household's row, on the form as sent (nothing is saved)."""
    ids, shares = data.getlist("household"), data.getlist("share")
    shares += [""] * (len(ids) - len(shares))
    if data.get("add") and data["add"] not in ids:  # a second tap on the same hit adds once
        ids, shares = [*ids, data["add"]], [*shares, ""]
    if data.get("remove"):
        kept = [(pk, share) for pk, share in zip(ids, shares, strict=False) if pk != data["remove"]]
        ids, shares = [pk for pk, _share in kept], [share for _pk, share in kept]
    data.setlist("household", ids)
    data.setlist("share", shares[: len(ids)])


def _hits(request, data, text: str):
    """The search's households: of the chosen listing's cooperative when it is one of the
    manager's, without those already on the lot."""
    data = data if data is not None else QueryDict()
    listing_id = row_id(str(data.get("listing", "")))
    cooperative_id = None
    if listing_id is not None:
        cooperative_id = selectors.own_listing_cooperative_id(
            user=request.user, listing_id=listing_id
        )
    picked = [row_id(raw) for raw in data.getlist("household")]
    return selectors.household_hits(
        user=request.user,
        text=text[:100],
        cooperative_id=cooperative_id,
        exclude=[pk for pk in picked if pk is not None],
    )


@manager_page
@require_http_methods(["GET", "POST"])
def lot_new(request):
    saving = request.method == "POST" and request.POST.get("action") == "save"
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        if not saving:
            _steps(data)
    form = _form(request, data)
    status = 200
    if saving:
        status = 400
        if form.is_valid():
            status = _receive(request, form)
            if status is None:
                lot_id = selectors.lot_id_by_code(
                    user=request.user,
                    listing_id=form.cleaned_data["listing"].pk,
                    code=form.cleaned_data["code"],
                )
                if lot_id is None:  # saved, but no longer the manager's to see
                    return redirect("mobile:lot-new")
                return redirect("mobile:lot", lot_id=lot_id)
    sent_key = request.POST.get(KEY_FIELD, "")
    text = (request.POST if request.method == "POST" else request.GET).get("q", "")
    context = {
        "form": form,
        "checked": saving,  # only a save is judged; the other steps just carry what was typed
        "q": text,
        "hits": _hits(request, data, text),
        # One key per form, kept through its search and row steps.
        "key": sent_key if _valid_key(sent_key) else uuid.uuid4().hex,
    }
    return render_page(request, "mobile/lot_new.html", context, status=status)


def _valid_key(key: str) -> bool:
    return bool(re.fullmatch(KEY_PATTERN, key))


def _receive(request, form) -> int | None:
    """lot_receive, once per form, as the API's lot create calls it; None when saved, else
    the status of the refusal (put back beside the field it names)."""
    data = form.cleaned_data
    listing = data["listing"]

    def work():
        # The API's check first: a listing the manager sees but does not manage is a 403.
        products_access.check_writes_for_cooperative(
            user=request.user, cooperative_id=listing.cooperative_id
        )
        products_services.lot_receive(
            listing=listing,
            code=data["code"],
            harvest_date=data["harvest_date"],
            quantity=data["quantity"],
            contributions=data["contributions"],
            notes=data["notes"],
        )

    try:
        replayed = run_once(request, request.POST.get(KEY_FIELD, ""), work)
    except Forbidden as error:
        form.add_error("listing", error.message)
        return 403
    except (DomainError, ValidationError) as error:
        put_back(form, error)
        return 400
    if replayed:
        messages.success(request, _("Already done."))
    else:
        messages.success(request, _("Lot %(code)s received.") % {"code": data["code"]})
    return None


@manager_page
@require_GET
def hits(request):
    """The search's answer alone, for htmx as the manager types."""
    text = request.GET.get("q", "")
    return render(
        request, "mobile/lot_hits.html", {"q": text, "hits": _hits(request, request.GET, text)}
    )


@manager_page
@require_GET
def row(request):
    """A household's row, for htmx to add to the lot in place (and take it off the hits):
    the hit's button sends ``add``, as it does in the form without JavaScript."""
    household_id = row_id(request.GET.get("add", ""))
    found = None
    if household_id is not None:
        found = selectors.household(user=request.user, household_id=household_id)
    if found is None:
        return HttpResponse(status=404)
    context = {"row": {"household_id": found.pk, "household": found, "shown": True}, "added": True}
    return render(request, "mobile/lot_row.html", context)


@manager_page
def lot(request, lot_id: int):
    """A received lot: its code, listing, and each household's share."""
    found = selectors.received_lot(user=request.user, lot_id=lot_id)
    if found is None:
        return not_found(request)
    return render_page(request, "mobile/lot.html", {"lot": found})
