"""Signing in and out of the phone page: phone and password as the API takes them, a session
with CSRF, and "stay signed in"."""

from django.contrib import auth
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import LoginForm
from ..pages import phone_page, render_page


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
    return render_page(request, "mobile/login.html", {"form": form, "next": _next(request)}, status)


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
