from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin

from .forms import AdminLoginForm
from .models import PartnerApiKey, User

admin.site.login_form = AdminLoginForm
_admin_login = admin.site.login


def admin_login_view(request, extra_context=None):
    """The admin's login page answers 429 with Retry-After when the sign-in limits hold it
    back, as the API does (AdminLoginForm marks the request)."""
    response = _admin_login(request, extra_context)
    retry_after = getattr(request, "login_retry_after", None)
    if retry_after is not None:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response


admin.site.login = admin_login_view


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["phone", "name", "role"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["phone"]
    list_display = ["phone", "name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["phone", "name", "email"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (_("Personal info"), {"fields": ["name", "email", "language"]}),
        (_("Role"), {"fields": ["role", "is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["phone", "name", "role", "password1", "password2"]})
    ]


@admin.register(PartnerApiKey)
class PartnerApiKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "user", "last_used_at"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "last_used_at")
