"""What delivery attempts do to an endpoint: a failure count that a success clears; after
PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES final failures the endpoint is disabled with the
reason and the organisation's approvers are told through the outbox (e-mail, in their
language), once."""

import pytest
from django.core import mail

from buyers.models import Membership
from notices import catalog
from notices.models import Notice
from notices.services import notice_send
from partners import selectors, services
from partners.models import WebhookEndpoint
from partners.transport import Attempt, deliver
from tests.factories import MembershipFactory


def send_outbox_mail() -> None:
    """Send what the outbox holds for e-mail now, as its worker would."""
    for notice in Notice.objects.filter(channel="email", status="pending"):
        notice_send(notice_id=notice.pk)


pytestmark = pytest.mark.django_db


@pytest.fixture
def approvers(organisation, approver_user):
    approver_user.email = "liu@example.cn"
    approver_user.language = "zh-hans"
    approver_user.save()
    english = MembershipFactory(organisation=organisation, role=Membership.Role.APPROVER).user
    english.email, english.language = "ops@example.cn", "en"
    english.save()
    no_mail = MembershipFactory(organisation=organisation, role=Membership.Role.APPROVER).user
    purchaser = MembershipFactory(organisation=organisation).user
    purchaser.email = "buyer@example.cn"
    purchaser.save()
    return approver_user, english, no_mail


def test_a_success_clears_the_count_and_retries_do_not_count(endpoint):
    services.endpoint_record_attempt(endpoint, Attempt("failed", 404))
    services.endpoint_record_attempt(endpoint, Attempt("failed", 404))
    services.endpoint_record_attempt(endpoint, Attempt("retry", 500))
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 2
    services.endpoint_record_attempt(endpoint, Attempt("sent", 200))
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.is_active


def test_a_failing_endpoint_is_disabled_and_its_owner_emailed(
    endpoint, receiver, settings, approvers, django_capture_on_commit_callbacks
):
    settings.PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES = 3
    receiver.answer(404)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            attempt = deliver(
                endpoint, event_id=f"evt_{n}", event_type="order.placed", payload={"id": f"evt_{n}"}
            )
            assert attempt.outcome == "failed"
            services.endpoint_record_attempt(endpoint, attempt)
            assert Notice.objects.exists() == (n == 2)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_at is not None
    assert "3" in endpoint.disabled_reason and "404" in endpoint.disabled_reason
    assert selectors.webhook_endpoints_for(endpoint.organisation_id, "order.placed") == []

    chinese, english, _no_mail = approvers
    told = Notice.objects.filter(event_type=catalog.WEBHOOK_ENDPOINT_DISABLED)
    assert {(n.user_id, n.channel) for n in told if n.channel == "email"} == {
        (chinese.pk, "email"),
        (english.pk, "email"),
    }
    send_outbox_mail()
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipient) == {(chinese.email,), (english.email,)}
    assert "停用" in by_recipient[(chinese.email,)].subject
    assert endpoint.url in by_recipient[(english.email,)].body
    assert "disabled" in by_recipient[(english.email,)].subject

    # Told once: further failures of a disabled endpoint send nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_record_attempt(endpoint, Attempt("failed", 404))
    send_outbox_mail()
    assert len(mail.outbox) == 2


def test_a_rolled_back_disabling_tells_nobody(endpoint, settings, approvers):
    settings.PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES = 1
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.endpoint_record_attempt(endpoint, Attempt("failed", 400))
        raise RuntimeError
    assert mail.outbox == []
    assert not Notice.objects.exists()
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active


def test_endpoints_for_an_event_are_the_active_subscribed_ones(
    organisation, other_organisation, approver_user, receiver
):
    def add(org, types):
        return WebhookEndpoint.objects.create(
            organisation=org, url=receiver.url(), event_types=types, secret="whsec_x"
        )

    placed = add(organisation, ["order.placed"])
    both = add(organisation, ["order.placed", "fulfilment.shipped"])
    add(organisation, ["fulfilment.shipped"])
    WebhookEndpoint.objects.filter(pk=add(organisation, ["order.placed"]).pk).update(
        is_active=False, disabled_reason="off"
    )
    add(other_organisation, ["order.placed"])
    assert selectors.webhook_endpoints_for(organisation.pk, "order.placed") == [placed, both]

    # The outbox's partner systems' group (one SELECT in its statement) answers the same.
    from notices.events import Event
    from notices.recipients import Resolution

    event = Event(key="k", type="order.placed", organisation_id=organisation.pk)
    keys = [r.key for r in Resolution([event])(catalog.PARTNER_SYSTEMS, event)]
    assert keys == [f"webhook:{placed.pk}", f"webhook:{both.pk}"]
