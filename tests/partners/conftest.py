import pytest

from accounts.models import User
from buyers.models import Membership
from partners import services
from tests.factories import MembershipFactory, UserFactory

from . import receiver as receivers


@pytest.fixture
def receiver():
    """A webhook receiver listening on 127.0.0.1 (tests/partners/receiver.py)."""
    running = receivers.start()
    yield running
    receivers.stop(running)


@pytest.fixture
def endpoint(organisation, approver_user, receiver):
    """An active endpoint of `organisation` pointing at `receiver`, which knows its secret."""
    created = services.webhook_endpoint_create(
        user=approver_user,
        organisation=organisation,
        url=receiver.url(),
        event_types=["order.placed", "fulfilment.shipped"],
    )
    receiver.secret = created.secret
    return created


@pytest.fixture
def other_approver_user(other_organisation):
    return MembershipFactory(organisation=other_organisation, role=Membership.Role.APPROVER).user


@pytest.fixture
def second_partner_user(organisation):
    user = UserFactory(role=User.Role.PARTNER)
    MembershipFactory(organisation=organisation, user=user)
    return user
