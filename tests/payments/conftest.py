"""The fake Stripe server (tests/payments/fake_stripe.py): started once per test session on
127.0.0.1, emptied before each test that asks for it, and the settings pointed at it, so the
real stripe SDK in payments/stripe_gateway.py talks to it over HTTP."""

import pytest

from .fake_stripe import FakeStripe


@pytest.fixture(scope="session")
def fake_stripe_server():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server, settings):
    """A fresh fake Stripe with the Stripe rail switched on against it."""
    fake_stripe_server.reset()
    settings.STRIPE_API_KEY = fake_stripe_server.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake_stripe_server.webhook_secret
    settings.STRIPE_API_BASE = fake_stripe_server.url
    yield fake_stripe_server
    assert fake_stripe_server.errors == [], "the fake Stripe server failed"
