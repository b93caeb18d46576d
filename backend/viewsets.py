"""The viewset most resources use."""

from rest_framework import mixins, viewsets

from .api import SparseFieldsMixin, bounded_id_regex
from .idempotency import IdempotentCreateMixin


class ResourceViewSet(
    SparseFieldsMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create (Idempotency-Key honoured) and update; no delete: marketplace
    records are deactivated or paused, not removed. Views name their services in
    perform_create / perform_update."""

    lookup_value_regex = bounded_id_regex()
