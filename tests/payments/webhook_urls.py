"""A URLconf with only the Stripe webhook, whose store keeps what it is given in RECEIVED:
the view is model-free, so its tests need no database."""

from django.urls import path

from payments.webhooks import StripeWebhookView

RECEIVED = []
PATH = "/api/v1/payments/stripe/webhook/"

urlpatterns = [path(PATH.lstrip("/"), StripeWebhookView.as_view(store=RECEIVED.append))]
