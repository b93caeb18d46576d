import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .throttles import login_attempt_wait


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, under the API's sign-in limits (per address and per phone)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": _("Too many sign-in attempts. Try again in %(seconds)d seconds."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Room for the spellings people type ("+86 138 0000 0001"); the backend normalises it.
        self.fields["username"].max_length = 32
        self.fields["username"].widget.attrs["maxlength"] = 32

    def clean(self):
        wait = login_attempt_wait(self.request)
        if wait is not None:
            seconds = math.ceil(wait)
            self.request.login_retry_after = seconds  # read by admin_login_view for the 429
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"seconds": seconds}
            )
        return super().clean()
