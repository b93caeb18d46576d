from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliersConfig(AppConfig):
    name = "suppliers"
    verbose_name = _("Suppliers")

    def ready(self):
        from accounts import token_cache

        from .models import Cooperative

        # A remembered bearer token carries which cooperatives its manager runs
        # (settings.AUTH_USER_PRELOAD): adding or removing a manager forgets their tokens.
        token_cache.watch_many_to_many(Cooperative.managers.through, _managers)


def _managers(instance, reverse, pk_set) -> list[int]:
    """The managers a change of Cooperative.managers touches: ``instance`` is the user when
    the change is made from the user's side (user.managed_cooperatives.add(...))."""
    if reverse:
        return [instance.pk]
    if pk_set is None:  # clear(): everyone who manages it now
        return list(instance.managers.values_list("pk", flat=True))
    return list(pk_set)
