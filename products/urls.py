from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("certifications", views.CertificationViewSet, basename="certification")
router.register("products", views.ProductViewSet, basename="product")
router.register("listings", views.ListingViewSet, basename="listing")
router.register("lots", views.LotViewSet, basename="lot")
router.register("negotiated-prices", views.NegotiatedPriceViewSet, basename="negotiated-price")
urlpatterns = router.urls
