from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("bank-transfers", views.BankTransferViewSet, basename="bank-transfer")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("statements", views.StatementViewSet, basename="statement")
router.register("household-earnings", views.HouseholdEarningsViewSet, basename="household-earning")
router.register("settlement-runs", views.SettlementRunViewSet, basename="settlement-run")
router.register("payouts", views.PayoutViewSet, basename="payout")
router.register("bank-batches", views.BankBatchViewSet, basename="bank-batch")
urlpatterns = router.urls
