"""Notices: the manager's own inbox, newest first, unread marked; a notice opened, marked
read through notices' service as the API's ``read`` action (once per form, an
Idempotency-Key). The unread count in the header follows."""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from backend.errors import DomainError
from notices import selectors as notices_selectors
from notices import services as notices_services

from .. import selectors
from ..forms import KEY_FIELD
from ..pages import manager_page, not_found, put_back, render_page, run_once

NOTICES_PER_PAGE = 20


def _inbox(request, failed=None, status: int = 200):
    page = Paginator(notices_selectors.inbox(user=request.user), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "rows": [{"notice": notice, "key": uuid.uuid4().hex} for notice in page],
        "all_key": uuid.uuid4().hex,
        "failed": failed,
    }
    return render_page(request, "mobile/notices.html", context, status=status)


@manager_page
def inbox(request):
    return _inbox(request)


@manager_page
@require_http_methods(["GET", "POST"])
def notice(request, notice_id: int):
    """GET opens it; POST marks it read (as the API's ``read``), then back to the inbox."""
    found = selectors.notice(user=request.user, notice_id=notice_id)
    if found is None:  # another person's, or none: the same answer
        return not_found(request)
    if request.method == "GET":
        context = {"notice": found, "key": uuid.uuid4().hex, "link": _link(found)}
        return render_page(request, "mobile/notice.html", context)
    return _mark(request, lambda: notices_services.notice_mark_read(notice=found))


@manager_page
@require_POST
def read_all(request):
    return _mark(request, lambda: notices_services.notices_mark_all_read(user=request.user))


def _mark(request, work):
    form = forms.Form(request.POST)  # no input: it only carries a refusal (a bad key)
    form.full_clean()
    try:
        replayed = run_once(request, request.POST.get(KEY_FIELD, ""), work)
    except (DomainError, ValidationError) as error:
        put_back(form, error)
        return _inbox(request, failed=form, status=400)
    messages.success(request, _("Already done.") if replayed else _("Marked read."))
    return redirect("mobile:notices")


def _link(notice) -> tuple[str, str] | None:
    """What the notice is about, on this page: a part, or a statement (the linked screen
    asks again whether the manager may see it)."""
    payload = notice.payload.get("data") if isinstance(notice.payload, dict) else None
    payload = payload if isinstance(payload, dict) else {}  # the event's data, as a webhook's
    if isinstance(payload.get("fulfilment"), int):
        return reverse("mobile:fulfilment", args=[payload["fulfilment"]]), _("Open the part")
    if isinstance(payload.get("statement"), int):
        return reverse("mobile:statement", args=[payload["statement"]]), _("Open the statement")
    return None
