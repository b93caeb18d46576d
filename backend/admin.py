from django.contrib import admin


class ViewOnlyAdmin(admin.ModelAdmin):
    """For records whose writes move stock or money: staff look here and act through the API,
    whose services keep stock, events and invariants in step."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
