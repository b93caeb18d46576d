from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("bank-transfers", views.BankTransferViewSet, basename="bank-transfer")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("refunds", views.RefundViewSet, basename="refund")
router.register("statements", views.StatementViewSet, basename="statement")
router.register("household-earnings", views.HouseholdEarningsViewSet, basename="household-earning")
router.register("settlement-runs", views.SettlementRunViewSet, basename="settlement-run")
router.register("payouts", views.PayoutViewSet, basename="payout")
router.register("bank-batches", views.BankBatchViewSet, basename="bank-batch")
urlpatterns = [
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
    *router.urls,
]
