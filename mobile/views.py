"""The manager's phone page: Today, a fulfilment and its actions, sign-in. Every action calls
the service the API's view calls, under the same access rules; every read goes through a
selector scoped to what the manager may see. Nothing here decides a rule."""

import datetime
import functools
import uuid
from types import SimpleNamespace

from django.contrib import auth, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.response import Response

from backend.errors import DomainError
from backend.idempotency import HEADER, idempotent
from logistics import selectors as logistics_selectors
from logistics import services as logistics_services
from notices import selectors as notices_selectors
from orders.models import FulfilmentStatus as S
from orders.services import transitions
from suppliers.access import managed_cooperative_ids

from . import selectors
from .forms import KEY_FIELD, ConfirmShortForm, LoginForm, RejectForm, ShipmentForm

DEFAULT_LANGUAGE = "zh-hans"


def _language(request) -> str:
    """zh-Hans, unless the browser prefers a language we have (English): the page is for
    Shitun's managers, and a phone that says nothing gets Chinese, not the API's English."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return DEFAULT_LANGUAGE


def phone_page(view):
    """In the browser's language (zh-Hans by default), as LocaleMiddleware would answer it."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        language = _language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
            response["Content-Language"] = language
            return response

    return wrapped


def manager_page(view):
    """Signed in, and managing a cooperative (suppliers.access); otherwise to the sign-in."""

    @phone_page
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('mobile:login')}?next={request.path}")
        if not managed_cooperative_ids(user=request.user):
            return _render(request, "mobile/not_a_manager.html", {}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    if request.user.is_authenticated:
        context["unread"] = notices_selectors.unread_count(user=request.user)
    return render(request, template, context, status=status)


# --- sign-in ------------------------------------------------------------------------------------
@phone_page
@require_http_methods(["GET", "POST"])
def login(request):
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        auth.login(request, form.get_user())
        if not form.cleaned_data.get("remember"):
            request.session.set_expiry(0)  # ends when the browser closes
        return redirect(_next(request))
    status = 429 if form.has_error("__all__", "throttled") else 200
    return _render(request, "mobile/login.html", {"form": form, "next": _next(request)}, status)


def _next(request) -> str:
    """Back to the page that sent the manager to sign in, within this page only."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    today = reverse("mobile:today")
    return target if target.startswith(today) and "//" not in target else today


@phone_page
@require_POST
def logout(request):
    auth.logout(request)
    return redirect("mobile:login")


# --- Today ----------------------------------------------------------------------------------
GROUP_TITLES = {
    "confirm": lambda: _("To confirm"),
    "pack": lambda: _("To pack"),
    "ship": lambda: _("To ship"),
    "delayed": lambda: _("Delayed"),
}


@manager_page
def today(request):
    groups = [
        {"name": name, "title": GROUP_TITLES[name](), "parts": parts}
        for name, parts in selectors.today(user=request.user).items()
    ]
    return _render(request, "mobile/today.html", {"groups": groups})


# --- a fulfilment ---------------------------------------------------------------------------
def _not_found(request) -> HttpResponse:
    return _render(request, "mobile/not_found.html", {}, status=404)


def _put_back(form, error: Exception) -> None:
    """A service's refusal, onto the form: beside the field it names, or above the form."""
    if isinstance(error, DomainError):
        named = {name: msgs for name, msgs in error.fields.items() if name in form.fields}
        if not named:
            form.add_error(None, str(error.message))
        for name, msgs in named.items():
            form.add_error(name, msgs)
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, msgs in error.message_dict.items():
        form.add_error(name if name in form.fields else None, msgs)


def _run_once(request, key: str, work) -> bool:
    """Run ``work`` once per form (backend.idempotency, as the API's Idempotency-Key): a
    form sent again, after a dropped connection or a second tap, applies nothing twice.
    Answers True when this sending was a replay."""
    body = {name: value for name, value in request.POST.items() if name != "csrfmiddlewaretoken"}
    shaped = SimpleNamespace(
        method=request.method,
        path=request.path,
        user=request.user,
        headers={HEADER: key},
        data=body,
    )

    def handler():
        work()
        return Response({"done": body.get("action", "")})

    return idempotent(shaped, handler).get("Idempotent-Replayed") == "true"


def _default_window(part) -> tuple[datetime.datetime, datetime.datetime]:
    """A morning on the day the store asked for (or tomorrow): a start for the form only."""
    day = part.order.requested_delivery_date or timezone.localdate() + datetime.timedelta(days=1)
    day = max(day, timezone.localdate() + datetime.timedelta(days=1))
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))
    return start, start + datetime.timedelta(hours=4)


def _forms(part, data=None, action: str = "") -> dict:
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
    }


# Each action and the form its refusals are shown on.
FORM_OF = {
    "confirm": "action_form",
    "confirm_short": "confirm_form",
    "reject": "reject_form",
    "pack": "action_form",
    "ship": "shipment_form",
}
ACTIONS = set(FORM_OF)
DONE = {
    "confirm": lambda: _("Confirmed in full."),
    "confirm_short": lambda: _("Confirmed with the quantities you gave."),
    "reject": lambda: _("Rejected."),
    "pack": lambda: _("Packed from the pick list."),
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


@manager_page
@require_http_methods(["GET", "POST"])
def fulfilment(request, fulfilment_id: int):
    part = selectors.fulfilment(user=request.user, fulfilment_id=fulfilment_id)
    if part is None:  # another cooperative's, or none: the same answer
        return _not_found(request)
    action = request.POST.get("action", "")
    if request.method == "POST" and action not in ACTIONS:
        action = ""
    forms = _forms(part, request.POST if action else None, action)
    status = 200
    if action:
        form = forms[FORM_OF[action]]
        work = _work(request, part, action, forms)
        if work is not None:
            try:
                replayed = _run_once(request, request.POST.get(KEY_FIELD, ""), work)
            except (DomainError, ValidationError) as error:
                _put_back(form, error)
            else:
                messages.success(request, _("Already done.") if replayed else DONE[action]())
                return redirect("mobile:fulfilment", fulfilment_id=part.pk)
        status = 400
    context = {
        "part": part,
        "lines": list(part.lines.all()),
        "picks": selectors.pick_list(fulfilment=part)
        if part.status in (S.CONFIRMED, S.PACKED)
        else [],
        "shipment": getattr(part, "shipment", None),
        "key": uuid.uuid4().hex,  # a new Idempotency-Key per rendered form
        "failed": action if status == 400 else "",
        **forms,
    }
    return _render(request, "mobile/fulfilment.html", context, status=status)


@manager_page
def delivery_note(request, fulfilment_id: int):
    """The delivery note logistics prints, for a part the manager sees."""
    note = logistics_selectors.delivery_note(user=request.user, fulfilment_id=fulfilment_id)
    if note is None:
        return _not_found(request)
    return render(
        request,
        "logistics/delivery_note.html",
        {**note, "lang": translation.get_language()},
    )
