"""Listings: the cooperative's listings with their stock, paused or put back on sale through
the service the API's listing PATCH calls, once per form (an Idempotency-Key)."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backend.errors import DomainError
from products import access as products_access
from products import services as products_services

from .. import selectors
from ..forms import KEY_FIELD, ListingStatusForm
from ..pages import manager_page, not_found, put_back, render_page, run_once

DONE = {
    "pause": lambda: _("Paused: buyers no longer see it."),
    "resume": lambda: _("On sale again."),
}


def _to_the_list(listing):
    return redirect(f"{reverse('mobile:listings')}#listing-{listing.pk}")


def _page(request, failed=None, form=None, status: int = 200):
    """The list, each listing with a form of its own (its own key); the refused one with
    its refusal beside it."""
    rows = [
        {
            "listing": listing,
            "key": uuid.uuid4().hex,
            "form": form if failed is not None and listing.pk == failed.pk else None,
        }
        for listing in selectors.listings(user=request.user)
    ]
    return render_page(request, "mobile/listings.html", {"rows": rows}, status=status)


@manager_page
def listings(request):
    return _page(request)


@manager_page
@require_http_methods(["GET", "POST"])
def listing(request, listing_id: int):
    """POST pauses or resumes; GET (a reload, a typed URL) shows it in the list."""
    found = selectors.listing(user=request.user, listing_id=listing_id)
    # The API's object permission on a listing (products.access): a manager writes only
    # their own cooperatives' listings, and sees no other's here.
    if found is None or not products_access.can_write(user=request.user, row=found):
        return not_found(request)
    if request.method == "GET":
        return _to_the_list(found)
    form = ListingStatusForm(request.POST)
    if form.is_valid():

        def work():
            products_services.listing_update(listing=found, data={"status": form.status()})

        try:
            replayed = run_once(request, request.POST.get(KEY_FIELD, ""), work)
        except (DomainError, ValidationError) as error:
            put_back(form, error)
        else:
            action = form.cleaned_data["action"]
            messages.success(request, _("Already done.") if replayed else DONE[action]())
            return _to_the_list(found)
    return _page(request, failed=found, form=form, status=400)
