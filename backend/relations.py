"""Related fields whose choices follow the user: a write may name only rows the user can see,
so an id outside that scope is the same 400 as an id that does not exist."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from backend.serializers import PrimaryKeyRelatedField


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(PrimaryKeyRelatedField):
    """A primary key looked up in ``scope(user)``, a selector of the owning app (so the
    serializer holds no query of its own). Without a request (schema generation) the user is
    None and the selector decides what that means."""

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))
