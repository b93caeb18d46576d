"""Related fields whose choices follow the user: a write may name only rows the user can see,
so an id outside that scope is the same 400 as an id that does not exist."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from backend.serializers import PrimaryKeyRelatedField


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(PrimaryKeyRelatedField):
    """A primary key looked up in ``scope(user)``, a selector of the owning app (so the
    serializer holds no query of its own), or in ``known(user)`` when that has the rows.
    Without a request (schema generation) the user is None and the selector decides what
    that means."""

    def __init__(self, *, scope, known=None, **kwargs):
        self.scope, self.known = scope, known
        super().__init__(**kwargs)

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_queryset(self):
        return self.scope(self._user())

    def to_internal_value(self, data):
        """``known(user)``: the rows ``scope(user)`` holds, by id, when they are in hand
        already (came with the credential), else None: then the scope is asked. The same
        refusals either way."""
        rows = self.known(self._user()) if self.known is not None else None
        if rows is None:
            return super().to_internal_value(data)
        self.check_id(data)
        row = rows.get(int(data))
        if row is None:
            self.fail("does_not_exist", pk_value=data)
        return row
