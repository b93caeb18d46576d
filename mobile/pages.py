"""What every screen of the manager's phone page shares: its language, who may open it, how
it renders, and how an action runs once. Screens live in ``mobile.views``; nothing here
decides a business rule."""

import functools
from types import SimpleNamespace

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header
from rest_framework.response import Response

from backend.errors import DomainError
from backend.idempotency import HEADER, idempotent
from notices import selectors as notices_selectors
from suppliers.access import managed_cooperative_ids

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
            return render_page(request, "mobile/not_a_manager.html", {}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def render_page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    if request.user.is_authenticated:
        context["unread"] = notices_selectors.unread_count(user=request.user)
    return render(request, template, context, status=status)


def not_found(request) -> HttpResponse:
    return render_page(request, "mobile/not_found.html", {}, status=404)


def put_back(form, error: Exception) -> None:
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


def run_once(request, key: str, work) -> bool:
    """Run ``work`` once per form (backend.idempotency, as the API's Idempotency-Key): a
    form sent again, after a dropped connection or a second tap, applies nothing twice.
    Answers True when this sending was a replay."""
    # Every value of a repeated field (a lot's households), not only the last: a form that
    # differs in any of them is another request.
    body = {
        name: values[0] if len(values) == 1 else values
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken"
    }
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
