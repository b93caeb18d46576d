from rest_framework import mixins, viewsets

from accounts import token_cache
from backend.api import bounded_id_regex
from backend.cache import prefetch
from backend.idempotency import IdempotentCreateMixin
from backend.viewsets import ResourceViewSet

from . import access, catalog_cache, selectors, services
from .filters import CategoryFilter, ListingFilter, LotFilter, ProductFilter
from .serializers import (
    CategorySerializer,
    CertificationSerializer,
    ListingSerializer,
    LotSerializer,
    NegotiatedPriceSerializer,
    ProductSerializer,
)


class CatalogViewSet(ResourceViewSet):
    """Read by every signed-in role; nothing in the catalog is deleted (pause or deactivate)."""


class CategoryViewSet(CatalogViewSet):
    """The category tree. ``parent`` is null at the top."""

    serializer_class = CategorySerializer
    permission_classes = [access.CatalogPermission]
    pagination_class = None  # a small tree: phones cache it whole
    filterset_class = CategoryFilter
    search_fields = ["name_zh", "name_en", "slug"]

    def get_queryset(self):
        return selectors.category_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.category_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.category_update(
            category=serializer.instance, data=serializer.validated_data
        )


class CertificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CertificationSerializer
    permission_classes = [access.CatalogPermission]
    pagination_class = None
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]{1,30}"

    def get_queryset(self):
        return selectors.certification_list(user=self.request.user)


class ProductViewSet(CatalogViewSet):
    """Canonical products buyers search for. ``search`` matches Chinese, English and pinyin
    (full or initials: 蜂蜜, honey, fengmi, fm)."""

    serializer_class = ProductSerializer
    permission_classes = [access.CatalogPermission]
    filterset_class = ProductFilter
    search_fields = ["name_zh", "name_en", "pinyin"]
    ordering_fields = ["id", "name_zh", "created_at"]

    def get_queryset(self):
        return selectors.product_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.product_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.product_update(
            product=serializer.instance, data=serializer.validated_data
        )


class ListingViewSet(CatalogViewSet):
    """A cooperative's offers: grade, packaging, price tiers, order rules and stock. Buyers see
    live listings (active, sold out); managers also their own drafts and paused ones."""

    serializer_class = ListingSerializer
    permission_classes = [access.CooperativeRowPermission]
    filterset_class = ListingFilter
    search_fields = [
        "product__name_zh",
        "product__name_en",
        "product__pinyin",
        "cooperative__name_zh",
    ]
    ordering_fields = ["id", "base_price", "created_at", "lead_time_days"]

    def get_queryset(self):
        return selectors.listing_list(user=self.request.user)

    def perform_authentication(self, request):
        # The list answered from the cache costs its Redis round trips: read the bearer
        # token's entry and the shared scope's page in one, before the token is checked
        # (the page is used only if the user turns out to be in that scope).
        if (
            self.action == "list"
            and request.accepted_renderer.format == "json"
            and catalog_cache.enabled()
        ):
            prefetch(
                request._request,
                [
                    token_cache.request_key(request),
                    *catalog_cache.page_keys(
                        scope=access.SHARED_LISTING_SCOPE,
                        url=request.build_absolute_uri(),
                        media_type=request.accepted_media_type,
                    ),
                ],
            )
        super().perform_authentication(request)

    def list(self, request, *args, **kwargs):
        # The hottest read: pages buyers and partner systems share are answered from the
        # cache while the catalog is unchanged (products/catalog_cache.py).
        renderer = request.accepted_renderer
        page = catalog_cache.page_lookup(
            scope=access.listing_cache_scope(user=request.user)
            if renderer.format == "json"
            else None,
            url=request.build_absolute_uri(),
            media_type=request.accepted_media_type,
            request=request._request,
        )
        if page is None or page.body is None:
            fields = self.requested_fields(ListingSerializer.Meta.fields)
            queryset = selectors.listing_rows_queryset(self.filter_queryset(self.get_queryset()))
            rows = self.paginate_queryset(queryset)
            response = self.get_paginated_response(selectors.listing_rows(rows, fields=fields))
            if page is None:
                return response
            page.store(
                renderer.render(
                    response.data, request.accepted_media_type, self.get_renderer_context()
                )
            )
        # The content type DRF's Response would give these rendered bytes.
        charset, media_type = renderer.charset, renderer.media_type
        return page.response(
            request, content_type=f"{media_type}; charset={charset}" if charset else media_type
        )

    def perform_create(self, serializer):
        access.check_writes_for_cooperative(
            user=self.request.user, cooperative_id=serializer.validated_data["cooperative"].pk
        )
        listing = services.listing_create(**serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=listing.pk)  # answer as a GET would

    def perform_update(self, serializer):
        listing = services.listing_update(
            listing=serializer.instance, data=serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=listing.pk)


class LotViewSet(CatalogViewSet):
    """Harvest lots (批次) behind listings, traced to the households that supplied them.
    Receiving a lot adds its quantity to the listing's stock."""

    serializer_class = LotSerializer
    permission_classes = [access.CooperativeRowPermission]
    filterset_class = LotFilter
    search_fields = ["code"]
    ordering_fields = ["id", "harvest_date", "created_at"]

    def get_queryset(self):
        return selectors.lot_list(user=self.request.user)

    def perform_create(self, serializer):
        listing = serializer.validated_data["listing"]
        access.check_writes_for_cooperative(
            user=self.request.user, cooperative_id=listing.cooperative_id
        )
        lot = services.lot_receive(**serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=lot.pk)

    def perform_update(self, serializer):
        lot = services.lot_update(lot=serializer.instance, data=serializer.validated_data)
        # Read back with its contributions prefetched: DRF empties the prefetch cache of the
        # instance it updated, and the answer would read each household one by one.
        serializer.instance = self.get_queryset().get(pk=lot.pk)


class NegotiatedPriceViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Negotiated prices: a cooperative (or staff) gives one buyer organisation its own tiers
    for a listing, valid for a date range; they take precedence over the public tiers when
    that buyer orders. Seen only by staff, the cooperative and that buyer."""

    serializer_class = NegotiatedPriceSerializer
    permission_classes = [access.CooperativeRowPermission]
    lookup_value_regex = bounded_id_regex()
    filterset_fields = ["listing", "organisation"]
    ordering_fields = ["id", "valid_from"]

    def get_queryset(self):
        return selectors.negotiated_price_list(user=self.request.user)

    def perform_create(self, serializer):
        access.check_writes_for_cooperative(
            user=self.request.user,
            cooperative_id=serializer.validated_data["listing"].cooperative_id,
        )
        serializer.instance = services.negotiated_price_create(**serializer.validated_data)

    def perform_destroy(self, instance):
        services.negotiated_price_delete(negotiated=instance)
