from django.contrib import admin

from .models import WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Staff see every endpoint and may switch one off; URLs and subscriptions are written
    through the API (its services check the URL against the SSRF guard)."""

    list_display = ["id", "organisation", "url", "is_active", "consecutive_failures", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "organisation__name_zh"]
    readonly_fields = [
        "organisation",
        "url",
        "event_types",
        "consecutive_failures",
        "disabled_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    exclude = ["secret"]

    def has_add_permission(self, request):
        return False
