"""Writes of partner API keys and webhook endpoints, and what a delivery attempt does to its
endpoint."""

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import is_staff
from accounts.models import PartnerApiKey, User
from backend.errors import DomainError
from backend.formatting import message
from backend.services import model_create, model_update
from buyers.models import BuyerOrganisation
from notices import catalog
from notices.channels import Attempt
from notices.events import Event
from notices.services import notify

from . import access, selectors, signing, transport, url_guard
from .models import WebhookEndpoint

logger = logging.getLogger(__name__)


# --- API keys -------------------------------------------------------------------------------------
def _partner_for_key(*, user: User, partner: User | None) -> User:
    """The partner account a new key acts as: the one named, else the organisation's only one."""
    if partner is not None:
        if not selectors.partner_account_choices(user=user).filter(pk=partner.pk).exists():
            raise DomainError(
                _("Name the partner account the key is for."),
                fields={"partner": [_("Not a partner account of your organisation.")]},
            )
        return partner
    choices = list(selectors.partner_account_choices(user=user)[:2])
    if is_staff(user) or len(choices) > 1:
        why = _("Name the partner account the key is for.")
    elif not choices:
        why = _("Your organisation has no partner system account yet; platform staff set one up.")
    else:
        return choices[0]
    raise DomainError(why, fields={"partner": [why]})


@transaction.atomic
def partner_key_create(
    *, user: User, name: str, partner: User | None = None, expiry_date=None
) -> tuple[PartnerApiKey, str]:
    """Issue a key for a partner account of the user's organisation; the key in clear is
    answered once and never stored. Several live keys may coexist (rotation: create the new
    one, move the system over, revoke the old one)."""
    partner = _partner_for_key(user=user, partner=partner)
    if expiry_date is not None and expiry_date <= timezone.now():
        raise DomainError(
            _("The expiry must be in the future."),
            fields={"expiry_date": [_("Must be in the future.")]},
        )
    return PartnerApiKey.objects.create_key(user=partner, name=name, expiry_date=expiry_date)


def partner_key_revoke(*, key: PartnerApiKey) -> PartnerApiKey:
    """Revoke at once and for good: the next request with the key is a 401 (keys are read
    from the database on every request, never from a cache). Revoking twice is harmless."""
    if not key.revoked:
        PartnerApiKey.objects.filter(pk=key.pk).update(revoked=True)
        key.revoked = True
    return key


# --- webhook endpoints ---------------------------------------------------------------------------
def _checked_url(url: str) -> str:
    try:
        url_guard.check(url)
    except url_guard.UnsafeUrl as exc:
        raise DomainError(str(exc), fields={"url": [str(exc)]}) from None
    return url


def _checked_event_types(event_types: list[str]) -> list[str]:
    unknown = [name for name in event_types if name not in catalog.BUYER_SUBSCRIBABLE]
    if unknown:
        why = _("Not an event a buyer organisation can subscribe to: %(types)s.") % {
            "types": ", ".join(unknown)
        }
        raise DomainError(why, fields={"event_types": [why]})
    if not event_types or len(set(event_types)) != len(event_types):
        why = _("Name one or more event types, each once.")
        raise DomainError(why, fields={"event_types": [why]})
    return list(event_types)


def webhook_endpoint_create(
    *,
    user: User,
    organisation: BuyerOrganisation,
    url: str,
    event_types: list[str],
    description: str = "",
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (answered once). The URL must be http(s) and reach
    public addresses only (url_guard); nothing is written otherwise."""
    access.check_organisation(user=user, organisation_id=organisation.pk)
    # Checked before the transaction: resolving a host name may take a while, and no row
    # lock should wait on DNS.
    url, event_types = _checked_url(url), _checked_event_types(event_types)
    with transaction.atomic():
        # Serialise one organisation's creations so two cannot both take the last place.
        BuyerOrganisation.objects.select_for_update().filter(pk=organisation.pk).exists()
        limit = settings.PARTNER_WEBHOOKS_PER_ORGANISATION
        if selectors.webhook_endpoint_count(organisation_id=organisation.pk) >= limit:
            raise DomainError(
                _("An organisation has at most %(limit)s webhook endpoints; remove one first.")
                % {"limit": limit},
                fields={"organisation": [_("Too many webhook endpoints.")]},
            )
        return model_create(
            WebhookEndpoint,
            organisation=organisation,
            url=url,
            event_types=event_types,
            description=description,
            secret=signing.new_secret(),
            created_by=user,
        )


def webhook_endpoint_update(*, user: User, endpoint: WebhookEndpoint, data: dict):
    """Change the URL (checked again), the description or the subscriptions; ``is_active``
    switches it on (the failure count starts again) or off (with who did it as the reason)."""
    data = dict(data)
    if "url" in data and data["url"] != endpoint.url:
        _checked_url(data["url"])
    if "event_types" in data:
        data["event_types"] = _checked_event_types(data["event_types"])
    active = data.pop("is_active", endpoint.is_active)
    if active and not endpoint.is_active:
        data.update(is_active=True, disabled_reason="", disabled_at=None, consecutive_failures=0)
    elif not active and endpoint.is_active:
        data.update(
            is_active=False,
            disabled_reason=_("Deactivated by %(name)s.") % {"name": user.name},
            disabled_at=timezone.now(),
        )
    endpoint, _changed = model_update(instance=endpoint, data=data)
    return endpoint


def webhook_endpoint_deactivate(*, user: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return webhook_endpoint_update(user=user, endpoint=endpoint, data={"is_active": False})


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret, in force for the next delivery; the old one stops signing at once."""
    endpoint, _changed = model_update(instance=endpoint, data={"secret": signing.new_secret()})
    return endpoint


def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> Attempt:
    """Send a sample delivery now and answer what happened. A test: it does not count towards
    the endpoint's failures, and a disabled endpoint may be pinged before switching it on."""
    event_id = f"ping_{uuid.uuid4().hex}"
    payload = {
        "id": event_id,
        "type": catalog.PING,
        "created_at": timezone.now().isoformat(),
        "data": {"endpoint": endpoint.pk, "organisation": endpoint.organisation_id},
    }
    return transport.deliver(
        endpoint,
        event_id=event_id,
        event_type=catalog.PING,
        payload=payload,
        timeout=settings.PARTNER_WEBHOOK_PING_TIMEOUT,
    )


# --- delivery outcomes -------------------------------------------------------------------------
@transaction.atomic
def endpoint_record_attempt(endpoint: WebhookEndpoint, attempt: Attempt) -> None:
    """Keep the endpoint's count of final failures in a row: a delivery ``sent`` sets it back
    to 0, a ``failed`` one (a 4xx, or the outbox's last retry spent) adds one, a ``retry``
    changes nothing (the delivery is not over). At PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES
    the endpoint is disabled, with the reason, and its organisation's approvers are e-mailed
    once, after commit."""
    if attempt.outcome == "sent":
        WebhookEndpoint.objects.filter(pk=endpoint.pk, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
        endpoint.consecutive_failures = 0
        return
    if attempt.outcome != "failed":
        return
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.consecutive_failures = F("consecutive_failures") + 1
    locked.save(update_fields=["consecutive_failures", "updated_at"])
    locked.refresh_from_db(fields=["consecutive_failures"])
    endpoint.consecutive_failures = locked.consecutive_failures
    limit = settings.PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES
    if locked.is_active and locked.consecutive_failures >= limit:
        reason = message(
            gettext_lazy(
                "Disabled after %(count)s deliveries in a row failed; the last: %(detail)s"
            ),
            {"count": locked.consecutive_failures, "detail": _attempt_summary(attempt)},
        )
        with translation.override(settings.LANGUAGE_CODE):
            locked.disabled_reason = str(reason)[:300]
        locked.is_active = False
        locked.disabled_at = timezone.now()
        locked.save(update_fields=["is_active", "disabled_reason", "disabled_at", "updated_at"])
        endpoint.is_active, endpoint.disabled_reason = False, locked.disabled_reason
        endpoint.disabled_at = locked.disabled_at
        tell_owner_endpoint_disabled(locked, reason)


def _attempt_summary(attempt: Attempt) -> str:
    if attempt.status_code is not None:
        return f"HTTP {attempt.status_code} {attempt.detail[:100]}".strip()
    return attempt.detail[:150]


def tell_owner_endpoint_disabled(endpoint: WebhookEndpoint, reason) -> None:
    """The organisation's approvers are told through the outbox (e-mail and inbox, each in
    their language), in the transaction that disabled the endpoint: sent after it commits."""
    notify(
        events=[
            Event(
                key=f"webhook_endpoint:{endpoint.pk}:disabled:{endpoint.disabled_at.isoformat()}",
                type=catalog.WEBHOOK_ENDPOINT_DISABLED,
                organisation_id=endpoint.organisation_id,
                params={"url": endpoint.url, "note": reason},
                payload={"endpoint": endpoint.pk, "organisation": endpoint.organisation_id},
                occurred_at=endpoint.disabled_at,
            )
        ]
    )
